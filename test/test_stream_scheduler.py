"""stream/scheduler.py: the latest-frame scheduler."""
import threading
import time

from pose_estimation_ros.stream.scheduler import LatestFrameScheduler


def test_latest_frame_scheduler_bounds_latency_and_counts_every_frame():
    """A slow worker never sees an old frame: whatever came while it worked, it takes the
    newest, so a frame waits for at most the one in progress. The worker's pace is set by a
    semaphore, not sleeps, so the machine's speed or load cannot change the outcome."""
    scheduler = LatestFrameScheduler()
    took, processed = [], []
    release = threading.Semaphore(0)

    def worker():
        while (frame := scheduler.take(timeout=5.0)) is not None:
            took.append(frame)
            if not release.acquire(timeout=10.0):  # "computing" until the test lets it finish
                return
            processed.append(frame)
            scheduler.done(ok=frame % 17 != 0, reason="rejected")  # some frames are bad

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    sent = 0
    try:
        for burst in range(40):  # 1 to 9 frames arrive while one is being processed
            scheduler.put(sent)
            sent += 1
            assert wait_until(lambda: took and took[-1] == sent - 1)
            for _ in range(1 + burst % 9):
                scheduler.put(sent)
                sent += 1
            release.release()  # the frame in progress finishes: the worker takes the newest
            assert wait_until(lambda: took[-1] == sent - 1)
            release.release()  # which finishes in turn
            assert wait_until(lambda: processed[-1] == sent - 1)
    finally:
        scheduler.close()
        thread.join(timeout=10.0)
    s = scheduler.stats
    assert s.received == sent and s.pending == 0
    assert s.received == s.published + s.dropped
    assert s.dropped == s.replaced + s.rejected + s.failed + s.discarded
    assert s.rejected == sum(1 for i in processed if i % 17 == 0)
    # of each burst only the newest frame was processed, the rest replaced while they waited
    assert s.replaced == sum(burst % 9 for burst in range(40)) and len(processed) == 80
    assert processed == sorted(processed) == took  # always the newest


def test_frames_in_flight_are_pending_until_done():
    """Taken frames are pending until reported, several at a time (results waiting for their
    depth partner): received = published + dropped + pending at every moment."""
    scheduler = LatestFrameScheduler()
    for i in range(3):
        scheduler.put(i)
        assert scheduler.take(timeout=1.0) == i
    scheduler.put(3)
    s = scheduler.stats
    assert (s.received, s.pending, s.published, s.dropped) == (4, 4, 0, 0)
    scheduler.done(True)
    scheduler.done(False, "failed")
    s = scheduler.stats
    assert (s.pending, s.published, s.failed) == (2, 1, 1)
    assert s.received == s.published + s.dropped + s.pending


def wait_until(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.001)
    return bool(condition())


def test_a_closed_scheduler_discards_and_counts_what_it_holds():
    scheduler = LatestFrameScheduler()
    scheduler.put("a")
    scheduler.close()
    assert scheduler.take(timeout=0.01) is None
    scheduler.put("b")  # arrives after deactivation
    s = scheduler.stats
    assert (s.received, s.published, s.discarded, s.dropped, s.pending) == (2, 0, 2, 2, 0)
    scheduler.open()
    scheduler.put("c")
    assert scheduler.take(timeout=0.01) == "c"
