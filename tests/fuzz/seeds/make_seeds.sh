#!/usr/bin/env bash
# Regenerates the committed seed corpora tests/fuzz/corpus/{nnl,onnx,npy}.
# usage: tests/fuzz/seeds/make_seeds.sh [path/to/nnlink]
# Needs a working nnlink (make), python3 with numpy and onnx, and the ONNX
# conformance cases (NNL_CONFORMANCE, default ../shared/onnx-conformance).
set -euo pipefail
cd "$(dirname "$0")/../../.."
NNL=$(realpath "${1:-build/nnlink}")
CONF=${NNL_CONFORMANCE:-../shared/onnx-conformance}
PY=${PYTHON:-/usr/bin/python3}
C=tests/fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rm -rf "$C"
mkdir -p "$C/nnl" "$C/onnx" "$C/npy"

"$PY" tests/fuzz/seeds/make_onnx_seeds.py "$T/seeds"
"$PY" tests/fuzz/seeds/make_npy_seeds.py "$C/npy"
cp tests/fixtures/gpt/decode.input_ids.npy "$C/npy/gpt_input_ids.npy"

# ONNX: our weight-bearing seeds, the PyTorch tinyseg export, and a spread
# of conformance nodes (shape logic, integer inputs, attributes, opsets).
cp "$T"/seeds/*.onnx "$C/onnx/"
cp tests/fixtures/tinyseg/model.onnx "$C/onnx/tinyseg.onnx"
NODES="test_conv_with_strides_padding test_maxpool_2d_pads test_averagepool_2d_ceil
test_resize_upsample_scales_linear test_resize_downsample_sizes_nearest test_gather_1
test_gather_negative_indices test_reshape_negative_extended_dims test_slice_negative_axes
test_concat_3d_axis_negative_1 test_transpose_all_permutations_3 test_expand_dim_changed
test_where_long_example test_einsum_batch_matmul test_scatter_elements_with_negative_indices
test_softmax_axis_1 test_reduce_mean_keepdims_random test_batchnorm_example test_split_variable_parts_2d
test_cast_FLOAT_to_FLOAT16 test_matmul_3d test_gemm_all_attributes test_constantofshape_int_zeros
test_range_float_type_positive_delta test_tile test_reflect_pad test_clip_default_inbounds test_layer_normalization_4d_axis1
test_instancenorm_example test_depthtospace_crd_mode_example test_argmax_keepdims_random test_edge_pad
test_lstm_defaults test_gru_defaults test_rnn_seq_length test_dft test_qlinearconv test_qlinearmatmul_2D
test_roialign_aligned_false test_gridsample test_lrn test_convinteger_with_padding test_matmulinteger
test_dequantizelinear test_quantizelinear test_hannwindow test_nllloss_NCd1 test_conv_with_autopad_same
test_convtranspose_pads test_maxunpool_export_with_output_shape test_nonmaxsuppression_center_point_box_format
test_cumsum_1d test_reversesequence_batch test_gathernd_example_int32 test_scatternd test_onehot_with_axis
test_compress_0 test_mod_mixed_sign_int64 test_if test_loop11"
for n in $NODES; do
    [ -f "$CONF/node/$n/model.onnx" ] && cp "$CONF/node/$n/model.onnx" "$C/onnx/$n.onnx"
done

# .nnl: each ONNX seed compiled (those nnlink takes), tinyseg at 1x3x32x32
# and a linked two-graph file that shares weights.
for f in "$C"/onnx/*.onnx; do
    b=$(basename "$f" .onnx)
    case $b in
        seed_conv) a="--input x=1,2,8,8" ;;
        seed_gemm) a="--input x=2,8" ;;
        tinyseg) a="--input image=1,3,32,32" ;;
        *) a="" ;;
    esac
    "$NNL" compile "$f" -o "$C/nnl/$b.nnl" $a >/dev/null 2>&1 || echo "not compiled (skipped): $b"
done
"$NNL" compile tests/fixtures/tinyseg/model.onnx --graph portrait --input image=1,3,48,32 -o "$T/p.nnl" >/dev/null
"$NNL" compile tests/fixtures/tinyseg/model.onnx --graph landscape --input image=1,3,32,48 -o "$T/l.nnl" >/dev/null
"$NNL" link "$T/l.nnl" "$T/p.nnl" --default portrait -o "$C/nnl/tinyseg_linked.nnl" >/dev/null
du -sh "$C"/*
