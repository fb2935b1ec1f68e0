"""The GIL is released while a graph runs (two threads with a session each
run in parallel), one session shared by threads stays correct, and 1000
runs do not grow the process."""
import os
import threading
import time

import numpy as np
import pytest

import nnlink
from conftest import assert_close, fixture, manifest_case

SANITIZED = os.environ.get("NNLINK_TEST_SANITIZED") == "1"


@pytest.fixture(scope="module")
def resnet():
    return nnlink.compile(fixture("resnet_tiny", "model.onnx"))


def _loop(session, inputs, n, barrier=None):
    if barrier:
        barrier.wait()
    for _ in range(n):
        session.run(inputs)


def _one_round(s1, s2, ins, n):
    t0 = time.perf_counter()
    _loop(s1, ins, n)
    one = time.perf_counter() - t0
    barrier = threading.Barrier(3)
    ts = [threading.Thread(target=_loop, args=(s, ins, n, barrier)) for s in (s1, s2)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return one, time.perf_counter() - t0


@pytest.mark.skipif(SANITIZED, reason="timing under the sanitizers means nothing")
def test_two_threads_two_sessions_run_in_parallel(resnet):
    """Both threads' runs together take under 1.6x one thread's alone (2.0x
    would be serial: the GIL held while a graph runs).  One thread per
    session (threads=1), so the two loops need two cores.  On a shared
    machine other processes take cores at random moments, so rounds (one
    alone, then both) repeat, for up to a minute, until the best times show
    the parallelism; with the GIL held they never would."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: nothing can run in parallel")
    ins, _, _ = manifest_case("resnet_tiny", "default")
    s1, s2 = resnet.session(threads=1), resnet.session(threads=1)
    _loop(s1, ins, 3)
    _loop(s2, ins, 3)
    ones, twos, deadline = [], [], time.monotonic() + 60
    while len(ones) < 5 or time.monotonic() < deadline:
        one, two = _one_round(s1, s2, ins, 20)
        ones.append(one)
        twos.append(two)
        print("one thread %.1f ms, two threads %.1f ms" % (one * 1e3, two * 1e3))
        # the best of each: the times with the least interference
        if len(ones) >= 5 and min(twos) / min(ones) < 1.6:
            break
    ratio = min(twos) / min(ones)
    print("best: one thread %.1f ms, two threads %.1f ms: %.2fx" % (min(ones) * 1e3, min(twos) * 1e3, ratio))
    assert ratio < 1.6, "two sessions in two threads took %.2fx one thread's time (load %s)" % (
        ratio, os.getloadavg())


def test_one_session_from_several_threads_stays_correct():
    """run() holds a per-session lock: concurrent calls take turns, and every
    caller gets the output of its own input."""
    m = nnlink.compile(fixture("tinyseg", "model.onnx"), input_specs=dict(image=(1, 3, 64, 96)))
    s = m.session(threads=1)
    ins, outs, tol = manifest_case("tinyseg", "landscape")
    other = {"image": np.zeros_like(ins["image"])}
    want_other = s.run(other)["out"]
    errors = []

    def work(inputs, want):
        try:
            for _ in range(50):
                np.testing.assert_array_equal(s.run(inputs)["out"], want)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    want = s.run(ins)["out"]
    assert_close(want, outs["out"], tol)
    ts = [threading.Thread(target=work, args=a) for a in ((ins, want), (other, want_other)) * 2]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[0]


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(SANITIZED, reason="ASan holds freed memory in quarantine: RSS grows by design")
def test_no_memory_growth_over_1000_runs():
    m = nnlink.compile(fixture("tinyseg", "model.onnx"), input_specs=dict(image=(1, 3, 64, 96)))
    ins, _, _ = manifest_case("tinyseg", "landscape")
    s = m.session(threads=2)
    for _ in range(100):  # arena, pools and allocator caches settle
        s.run(ins)
        m.run(ins)
    before = _rss_bytes()
    for _ in range(1000):
        s.run(ins)
        m.run(ins)
    grown = _rss_bytes() - before
    # one leaked output per run would be 1000 x 123 KB = 123 MB
    assert grown < 4 << 20, "RSS grew by %.1f MB over 1000 runs" % (grown / 1e6)
    # sessions and models made and dropped in a loop are freed too
    before = _rss_bytes()
    for _ in range(200):
        with nnlink.load(m.path) as m2:
            m2.session(threads=1).run(ins)
    grown = _rss_bytes() - before
    assert grown < 4 << 20, "RSS grew by %.1f MB over 200 opened and closed models" % (grown / 1e6)
