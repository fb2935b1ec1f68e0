"""The GIL is released while a graph runs, two sessions run in two threads at
once, one session shared by threads stays correct, and 1000
runs do not grow the process."""
import os
import sys
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


def _frames_seen_while_running(session, inputs, runs):
    """The top Python frame of a thread running session.run `runs` times, as
    seen by this thread each time it gets the GIL.  The switch interval is
    made huge, so the interpreter never takes the GIL from its holder: this
    thread gets it only when the worker blocks or a C call releases it.  No
    clock decides anything, so a loaded machine cannot change the outcome."""
    seen = []
    worker = threading.Thread(target=lambda: [session.run(inputs) for _ in range(runs)])
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        worker.start()
        while worker.is_alive():
            f = sys._current_frames().get(worker.ident)
            if f is not None:
                seen.append(f.f_code)
            time.sleep(0.0005)  # blocks, so the worker can take the GIL back
    finally:
        sys.setswitchinterval(old)
        worker.join()
    return seen


def test_the_gil_is_released_while_a_graph_runs(resnet):
    """Another Python thread runs while one is inside nnl_session_run: the
    worker's top frame is Session.run itself only while that call (the one C
    call run() makes in its own frame) has released the GIL.  Were the GIL held
    through the graph, this thread would see the worker in run() never."""
    ins, outs, tol = manifest_case("resnet_tiny", "default")
    s = resnet.session(threads=1)
    seen = _frames_seen_while_running(s, ins, 20)
    assert nnlink.Session.run.__code__ in seen, "never saw the worker inside run(): %s" % sorted(
        {c.co_name for c in seen})
    assert_close(s.run(ins)[next(iter(outs))], outs[next(iter(outs))], tol)


def _run_in_threads(jobs, runs):
    """Each job (session, inputs, output name, wanted array) in a thread of
    its own, all at once, `runs` runs each, every output equal to the wanted
    one; the first failure is raised here."""
    errors = []

    def work(session, inputs, name, want):
        try:
            for _ in range(runs):
                np.testing.assert_array_equal(session.run(inputs)[name], want)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    ts = [threading.Thread(target=work, args=j) for j in jobs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[0]


def test_two_threads_two_sessions_stay_correct(resnet):
    """Two sessions of one plan run in two threads at once (their graphs
    overlap whenever the machine has two free cores) and each gets its own
    input's output."""
    ins, outs, tol = manifest_case("resnet_tiny", "default")
    name = next(iter(outs))
    s1, s2 = resnet.session(threads=1), resnet.session(threads=1)
    other = {k: np.zeros_like(v) for k, v in ins.items()}
    want = s1.run(ins)[name]
    assert_close(want, outs[name], tol)
    _run_in_threads([(s1, ins, name, want), (s2, other, name, s2.run(other)[name])], 30)


def test_one_session_from_several_threads_stays_correct():
    """run() holds a per-session lock: concurrent calls take turns, and every
    caller gets the output of its own input."""
    m = nnlink.compile(fixture("tinyseg", "model.onnx"), input_specs=dict(image=(1, 3, 64, 96)))
    s = m.session(threads=1)
    ins, outs, tol = manifest_case("tinyseg", "landscape")
    other = {"image": np.zeros_like(ins["image"])}
    want = s.run(ins)["out"]
    assert_close(want, outs["out"], tol)
    _run_in_threads([(s, ins, "out", want), (s, other, "out", s.run(other)["out"])] * 2, 50)


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
