"""``claims.gc_pause.gc_paused``: the collector paused inside, as it was after the last
(nested or concurrent) block, also when a block raises."""
import gc
import threading

import pytest

from claims.gc_pause import gc_paused


def test_nested_blocks_restore_the_collector():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still runs
    assert gc.isenabled()


def test_a_raising_block_restores_it_and_a_disabled_collector_stays_disabled():
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_concurrent_blocks_share_one_count():
    inside, leave = threading.Event(), threading.Event()

    def other():
        with gc_paused():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with gc_paused():
        pass
    assert not gc.isenabled()  # the other thread's block still runs
    leave.set()
    thread.join()
    assert gc.isenabled()
