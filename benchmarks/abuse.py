"""Abuse benchmark: one token floods from many sockets; do the other clients notice?

Starts ``assist serve`` in a subprocess (shipped knowledge, default embedder, the default limits
unless ``--limits-off``), then per run:

1. idle: ``--victims`` clients (4), each with its own token, send one message every
   ``--interval`` seconds (0.25) for ``--seconds`` (8); latency frame sent → suggestions;
2. attack: the same, while one attacker token holds ``--sockets`` sockets (40), each sending
   distinct messages at ``--socket-rate`` per second (45: under the per-socket limit of 50), and
   reconnecting whenever it is closed; the attacker runs in its own process;
3. after: the attacker has left; the victims go on for 3 s (a backlog would show here).

Target (issue 15): the victims' p99 during the attack at most 3x the idle p99. The machine is
shared, so timings are noisy: ``--repeat`` runs, medians reported.
``--limits-off`` raises the per-token limits out of reach and lets one token fill whole batches
(what the service did before per-token fairness) for comparison.

    python benchmarks/abuse.py                 # one run
    python benchmarks/abuse.py --repeat 3
    python benchmarks/abuse.py --limits-off
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load import REPO, Server, make_messages, percentile  # noqa: E402

ATTACKER = "bench-attacker-token"
VICTIM = "bench-victim-token-{n}"
AFTER_S = 3.0


def server_env(victims: int, limits_off: bool) -> dict[str, str]:
    tokens = [f"{ATTACKER}:agent"] + [f"{VICTIM.format(n=n)}:agent" for n in range(victims)]
    env = {"ASSIST_TOKENS": ",".join(tokens + ["bench-admin-token:admin"]),
           # load.py switches the per-socket limit off; here it is the default again.
           "ASSIST_RATE_PER_S": "50", "ASSIST_RATE_BURST": "100"}
    if limits_off:
        env.update({"ASSIST_TOKEN_RATE_PER_S": "100000", "ASSIST_TOKEN_RATE_BURST": "100000",
                    "ASSIST_TOKEN_QUEUE": "100000", "ASSIST_BATCH_MAX_PER_TOKEN": "1000000",
                    "ASSIST_MAX_CONNECTIONS_PER_TOKEN": "100000"})
    else:  # load.py turns these off for its one-token clients: back to the defaults
        from assist.core.settings import Settings

        for name in ("token_rate_per_s", "token_rate_burst", "token_queue", "batch_max_per_token",
                     "max_connections_per_token"):
            env[f"ASSIST_{name.upper()}"] = str(Settings.model_fields[name].default)
    return env


async def victim(url: str, texts: list[str], interval: float, until: float, name: str,
                 phases: list[tuple[str, float]], latencies: dict[str, list[float]],
                 errors: Counter[str]) -> None:
    """Paced: one message per ``interval``; latencies filed under the phase they were sent in."""
    import websockets

    async with websockets.connect(url, max_size=1 << 22, compression=None) as ws:
        await ws.recv()  # welcome
        sent: dict[str, tuple[float, str]] = {}

        async def reader() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "suggestions" and frame["message_id"] in sent:
                    at, phase = sent.pop(frame["message_id"])
                    latencies[phase].append((time.perf_counter() - at) * 1000)
                elif frame["type"] == "error":
                    errors[frame["code"]] += 1

        task = asyncio.create_task(reader())
        i = 0
        next_at = time.perf_counter()
        while (now := time.perf_counter()) < until:
            phase = next(p for p, end in phases if now < end)
            message_id = f"{name}-{i}"
            sent[message_id] = (time.perf_counter(), phase)
            await ws.send(json.dumps({"type": "customer_message", "conversation_id": name,
                                      "message_id": message_id, "text": texts[i % len(texts)]},
                                     ensure_ascii=False))
            i += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.sleep(2.0)  # the last answers
        task.cancel()


async def _attack(url: str, sockets: int, rate: float, start: float, until: float,
                  seed: int) -> dict[str, int]:
    import websockets

    counts: Counter[str] = Counter()
    texts = make_messages(20000, seed)

    async def one(n: int) -> None:
        i = 0
        while time.perf_counter() < until:
            try:
                async with websockets.connect(url, max_size=1 << 22, compression=None,
                                              open_timeout=5) as ws:
                    counts["connected"] += 1

                    async def drain() -> None:
                        try:
                            async for raw in ws:
                                frame = json.loads(raw)
                                counts[frame.get("code") or frame["type"]] += 1
                        except websockets.ConnectionClosed as closed:
                            counts[f"closed {closed.rcvd.code if closed.rcvd else 'none'}"] += 1

                    reader = asyncio.create_task(drain())
                    next_at = time.perf_counter()
                    while (now := time.perf_counter()) < until and not reader.done():
                        await ws.send(json.dumps({
                            "type": "customer_message", "conversation_id": f"flood-{n}",
                            "message_id": f"f{n}-{i}", "text": texts[(n * 500 + i) % len(texts)]},
                            ensure_ascii=False))
                        counts["sent"] += 1
                        i += 1
                        next_at += 1 / rate
                        await asyncio.sleep(max(0.0, next_at - now))
                    reader.cancel()
            except websockets.ConnectionClosed:
                pass  # counted by its reader
            except (OSError, websockets.InvalidHandshake, TimeoutError):
                counts["refused"] += 1
                await asyncio.sleep(0.2)

    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    await asyncio.gather(*(one(n) for n in range(sockets)))
    return dict(counts)


def attacker_process(url: str, sockets: int, rate: float, start_in: float, seconds: float,
                     seed: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    start = time.perf_counter() + start_in
    out.put(asyncio.run(_attack(url, sockets, rate, start, start + seconds, seed)))


def one_run(server: Server, args: argparse.Namespace, seed: int) -> dict:
    base = f"ws://127.0.0.1:{server.port}/ws?token="
    latencies: dict[str, list[float]] = {"idle": [], "attack": [], "after": []}
    errors: Counter[str] = Counter()
    start = time.perf_counter()
    phases = [("idle", start + args.seconds), ("attack", start + 2 * args.seconds + 1),
              ("after", start + 2 * args.seconds + 1 + AFTER_S)]
    results: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()  # type: ignore[type-arg]
    # The attacker starts 1 s before the attack phase is measured, and stops when it ends.
    attacker = multiprocessing.get_context("spawn").Process(
        target=attacker_process, args=(base + ATTACKER, args.sockets, args.socket_rate,
                                       args.seconds, args.seconds + 1, seed, results))
    attacker.start()

    async def victims() -> None:
        await asyncio.gather(*(victim(base + VICTIM.format(n=n), make_messages(2000, seed * 100 + n),
                                      args.interval, phases[-1][1], f"victim-{n}", phases,
                                      latencies, errors) for n in range(args.victims)))

    asyncio.run(victims())
    attack = results.get(timeout=60)
    attacker.join(timeout=30)
    return {"latencies": latencies, "errors": dict(errors), "attacker": attack}


def wait_drained(server: Server, limit: float = 120.0) -> float:
    """Seconds until the server has no messages waiting for the embedder (a backlog left by the
    previous run would otherwise count against the next run's idle phase)."""
    started = time.perf_counter()
    while server.stats().get("queued", 0) and time.perf_counter() - started < limit:
        time.sleep(0.2)
    return time.perf_counter() - started


def summary(values: list[float]) -> str:
    return (f"p50 {percentile(values, 50):6.1f} ms  p99 {percentile(values, 99):7.1f} ms  "
            f"(n={len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--victims", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--sockets", type=int, default=40)
    parser.add_argument("--socket-rate", type=float, default=45.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--limits-off", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE",
                        help="a server setting for this run, e.g. --set token_rate_per_s=50")
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    args = parser.parse_args()
    ratios, idle99, attack99 = [], [], []
    with tempfile.TemporaryDirectory(prefix="assist-abuse-") as tmp:
        env = server_env(args.victims, args.limits_off)
        env.update({f"ASSIST_{k.strip().upper()}": v for k, v in (item.split("=", 1) for item in args.set)})
        server = Server(Path(tmp), args.knowledge, env_overrides=env)
        try:
            for run in range(args.repeat):
                drained = wait_drained(server)
                if drained > 0.5:
                    print(f"(waited {drained:.1f}s for the previous run's backlog to drain)")
                result = one_run(server, args, seed=run + 1)
                lat = result["latencies"]
                print(f"run {run + 1}{' (limits off)' if args.limits_off else ''}:")
                for phase in ("idle", "attack", "after"):
                    print(f"  victims {phase:6s} {summary(lat[phase])}")
                attack = result["attacker"]
                print(f"  attacker: sent {attack.get('sent', 0)}, "
                      f"suggestions {attack.get('suggestions', 0)}, "
                      f"rate_limited {attack.get('rate_limited', 0)} (errors sent), "
                      f"busy {attack.get('busy', 0)}, connections {attack.get('connected', 0)}, closes "
                      f"{ {k: v for k, v in attack.items() if k.startswith('closed')} }, "
                      f"refused {attack.get('refused', 0)}")
                if result["errors"]:
                    print(f"  victims got errors: {result['errors']}")
                i99, a99 = percentile(lat["idle"], 99), percentile(lat["attack"], 99)
                idle99.append(i99)
                attack99.append(a99)
                ratios.append(a99 / i99 if i99 else float("inf"))
                print(f"  attack p99 / idle p99 = {ratios[-1]:.2f} (target <= 3)")
        finally:
            server.stop()
    if args.repeat > 1:
        print(f"median of {args.repeat} runs: idle p99 {statistics.median(idle99):.1f} ms, attack p99 "
              f"{statistics.median(attack99):.1f} ms, ratio {statistics.median(ratios):.2f} "
              f"(runs: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
