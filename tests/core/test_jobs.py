"""The embedded job runner: a burst of identical jobs runs once; one enqueued while the first runs runs again."""

from __future__ import annotations

import asyncio

from leadcall.core.jobs import InProcessJobs


async def test_identical_jobs_waiting_to_start_run_once_and_a_later_one_runs_again() -> None:
    jobs = InProcessJobs()
    runs: list[tuple[str, ...]] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def check(*args: str) -> None:
        runs.append(args)
        started.set()
        await release.wait()

    jobs.register("check", check)
    for _ in range(5):
        await jobs.enqueue("check", "tenant-a", "team-1", unique=False)
    await jobs.enqueue("check", "tenant-b", "team-1", unique=False)
    await started.wait()
    # The first "tenant-a" check is running: it may have read before this enqueue's commit, so this one runs too.
    await jobs.enqueue("check", "tenant-a", "team-1", unique=False)
    release.set()
    await jobs.drain()
    assert sorted(runs) == [("tenant-a", "team-1"), ("tenant-a", "team-1"), ("tenant-b", "team-1")]


async def test_a_failing_job_does_not_stop_the_others() -> None:
    jobs = InProcessJobs()
    done: list[str] = []

    async def fail(name: str) -> None:
        raise RuntimeError(name)

    async def ok(name: str) -> None:
        done.append(name)

    jobs.register("fail", fail)
    jobs.register("ok", ok)
    await jobs.enqueue("fail", "x")
    await jobs.enqueue("ok", "y")
    await jobs.drain()
    assert done == ["y"]


async def test_jobs_of_a_lane_run_one_at_a_time_in_the_order_enqueued() -> None:
    jobs = InProcessJobs()
    running: list[str] = []
    order: list[str] = []
    overlapped = False

    async def apply(delivery_id: str) -> None:
        nonlocal overlapped
        overlapped = overlapped or bool(running)
        running.append(delivery_id)
        await asyncio.sleep(0)  # let every other waiting job try to start
        order.append(delivery_id)
        running.remove(delivery_id)
        if delivery_id == "d1":
            await jobs.enqueue("apply", "d4")  # enqueued by a running job: still after those before it

    jobs.register("apply", apply, concurrency=1)
    for delivery_id in ("d1", "d2", "d3", "d2"):
        await jobs.enqueue("apply", delivery_id)
    assert await jobs.depth() == 3
    await jobs.drain()
    assert order == ["d1", "d2", "d3", "d4"] and not overlapped
    assert await jobs.depth() == 0
