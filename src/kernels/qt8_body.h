/*
 * The transposed 8-bit tile (gemm.h nnl_qtukr_args) on 256-bit vectors,
 * included by kset_avx2.c once per dot-product form.  A vector is one
 * panel's 8 channels (a quad slice is 32 bytes: no insert).  Blocks of
 * PB <= QT8_PB panels x PJ <= 4 pixels of sums, PB weight loads and a
 * pixel's broadcast quad; a call walks its K block once per block, the
 * weights from L1 again.  The includer defines:
 *   QT8_NAME(f)     the name of this form's function f
 *   QT8_ATTR        their target attribute (empty: the file's own)
 *   QT8_DP(c, x, w) c + the 4-byte dot products of uint8 x and int8 w in
 *                   each int32 lane
 *   QT8_PB          panels a block takes (its sums and weights in the 16 ymm)
 * and INLINE, i32u, QTO and qt_store.
 */
QT8_ATTR INLINE void QT8_NAME(qt_block)(const nnl_qtukr_args *p, int i0, int j0, const int PB, const int PJ) {
    __m256i c[3][4];
    _Pragma("GCC unroll 3")
    for (int i = 0; i < PB; i++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < PJ; j++)
            c[i][j] = p->first ? _mm256_setzero_si256()
                               : _mm256_loadu_si256((const __m256i *)(p->acc + (j0 + j) * QTO + 8 * (i0 + i)));
    int64_t pix[4];
    for (int j = 0; j < 4; j++) pix[j] = p->pix[j0 + j < p->nj ? j0 + j : p->nj - 1];
    const int8_t *w = p->w + i0 * p->w_ps;
    for (int64_t q = 0; q < p->kq; q++, w += 32) {
        __m256i wv[3];
        _Pragma("GCC unroll 3")
        for (int i = 0; i < PB; i++) wv[i] = _mm256_loadu_si256((const __m256i *)(w + i * p->w_ps));
        const uint8_t *x = p->x + p->xoff[q];
        _Pragma("GCC unroll 4")
        for (int j = 0; j < PJ; j++) {
            __m256i b = _mm256_set1_epi32(*(const i32u *)(x + pix[j]));
            _Pragma("GCC unroll 3")
            for (int i = 0; i < PB; i++) c[i][j] = QT8_DP(c[i][j], b, wv[i]);
        }
    }
    const int n = p->nj - j0 < PJ ? p->nj - j0 : PJ;
    _Pragma("GCC unroll 3")
    for (int i = 0; i < PB; i++) {
        if (p->last) {
            qt_store(p, c[i], i0 + i, j0, n, PJ);
            continue;
        }
        _Pragma("GCC unroll 4")
        for (int j = 0; j < PJ; j++)
            _mm256_storeu_si256((__m256i *)(p->acc + (j0 + j) * QTO + 8 * (i0 + i)), c[i][j]);
    }
}

QT8_ATTR INLINE void QT8_NAME(qt_pixels)(const nnl_qtukr_args *p, int i0, const int PB) {
    for (int j0 = 0; j0 < p->nj; j0 += 4) {
        /* a short last block computes only its pixels (the 8-bit GEMM's
         * single row of x is one) */
        const int left = p->nj - j0;
        if (left == 1)
            QT8_NAME(qt_block)(p, i0, j0, PB, 1);
        else if (left == 2)
            QT8_NAME(qt_block)(p, i0, j0, PB, 2);
        else if (left == 3)
            QT8_NAME(qt_block)(p, i0, j0, PB, 3);
        else
            QT8_NAME(qt_block)(p, i0, j0, PB, 4);
    }
}

/* Panels in blocks of QT8_PB (3 or 2), a remainder as its own block. */
QT8_ATTR static void QT8_NAME(qtukr)(const nnl_qtukr_args *p) {
    int i0 = 0;
    for (; i0 + QT8_PB <= p->np; i0 += QT8_PB) QT8_NAME(qt_pixels)(p, i0, QT8_PB);
    if (p->np - i0 == 2) QT8_NAME(qt_pixels)(p, i0, 2);
    if (p->np - i0 == 1) QT8_NAME(qt_pixels)(p, i0, 1);
}

#undef QT8_NAME
#undef QT8_ATTR
#undef QT8_DP
#undef QT8_PB
