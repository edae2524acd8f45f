"""Load benchmark: concurrent websocket clients against a real ``assist serve`` over loopback.

Starts ``assist serve`` in a subprocess on the shipped knowledge (index built into a temporary
folder, default embedder), then measures, in one run:

1. raw batched embedder throughput (this process, batches of 64, the benchmark's own texts);
2. light load: one client, one message at a time: round-trip latency p50/p95/p99;
3. saturation: ``--connections`` clients (200), each sending its next message as soon as the
   last one's suggestions arrive, for ``--seconds``: the most the service sustains, and its
   latency when every client always waits (by Little's law p50 ≈ connections / throughput);
4. sustained rate: the same connections sending on a schedule (open loop) at ``--rate`` messages
   per second in total (1,000 by default): achieved throughput and latency at that load, which
   is what the "1,000 msg/s at 200 connections, p99 ≤ 50 ms" target is about.

Messages are varied (product, size, colour, order numbers, phrasing): mostly distinct texts, with
about one in six a common repeat ("在吗", "发货了吗") so the embedding cache helps only as much as
in real traffic. Latency is measured by the client: frame sent → suggestions received. The
clients run in ``--processes`` processes (2), each with its own event loop, so that the client
side is not the bottleneck; the server's and the clients' CPU time per message are reported for
the two 200-connection phases (server from /proc, so Linux only).

    python benchmarks/load.py                     # one run
    python benchmarks/load.py --repeat 3          # three runs, medians reported
    python benchmarks/load.py --seconds 5 --connections 100 --rate 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOKEN = "bench-admin-token"

REPEATS = ["在吗", "在吗?", "发货了吗", "好的谢谢", "有人吗", "亲在吗", "嗯嗯", "好的", "谢谢",
           "什么时候发货", "能便宜点吗", "包邮吗"]
TEMPLATES = [
    "这款{p}{s}码的还有货吗", "我平时穿{n}码,{p}拍多大合适", "{p}是{c}的那个还有吗,想要{k}件",
    "订单{o}怎么还没发货", "快递都{d}天了还没到,单号{o}", "{p}收到有点问题,{c}的掉色了",
    "我想把{c}换成别的颜色可以吗,订单{o}", "{p}能不能便宜{d}块钱", "买{k}件{p}有优惠吗",
    "{p}是正品吗,有没有{c}的", "地址填错了,能改成{d}号楼吗", "{p}质量怎么样,会不会起球",
    "我要退货,{p}尺码偏{z}了", "退款什么时候到账,都{d}天了", "{p}可以开发票吗,抬头写公司",
    "请问{p}{s}码腰围多少", "{c}的{p}什么时候补货", "发什么快递,{d}号之前能到吗",
]
PRODUCTS = ["连衣裙", "运动鞋", "卫衣", "羽绒服", "牛仔裤", "衬衫", "帆布鞋", "保温杯", "双肩包",
            "T恤", "风衣", "毛衣", "短裤", "拖鞋", "围巾"]
COLOURS = ["黑色", "白色", "红色", "藏青", "米色", "灰色", "粉色", "卡其色"]
SIZES = ["S", "M", "L", "XL", "XXL", "36", "37", "38", "39", "40", "41", "42", "43"]


def make_messages(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < 1 / 6:
            out.append(rng.choice(REPEATS))
            continue
        out.append(rng.choice(TEMPLATES).format(
            p=rng.choice(PRODUCTS), s=rng.choice(SIZES), c=rng.choice(COLOURS),
            n=rng.randint(35, 45), k=rng.randint(2, 5), d=rng.randint(2, 30),
            z=rng.choice("大小"), o=rng.randint(10**15, 10**16 - 1)))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``assist serve`` in a subprocess with a bench token and no per-connection rate limit."""

    def __init__(self, workdir: Path, knowledge: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "ASSIST_TOKENS": f"{TOKEN}:admin", "ASSIST_DEV": "false",
               "ASSIST_RATE_PER_S": "100000", "ASSIST_RATE_BURST": "100000",
               "ASSIST_LOG_STORE": f"sqlite:///{workdir}/log.db"}
        command = [sys.executable, "-c", "from assist.cli import main; main()", "serve",
                   "--knowledge", str(knowledge), "--index", str(workdir / "index"),
                   "--data", str(workdir / "data"), "--port", str(self.port)]
        with open(workdir / "server.log", "w") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                                            stderr=log)
        self.url = f"ws://127.0.0.1:{self.port}/ws?token={TOKEN}"
        deadline = time.monotonic() + 600  # the first start builds the index
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited; see {workdir / 'server.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("server did not start in time")

    def stats(self) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/admin/stats",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _answer_kind(raw: str | bytes) -> tuple[str, str | None]:
    """(type, message_id) of a server frame: the client decodes just enough to time it."""
    answer = json.loads(raw)
    if answer["type"] == "error":
        raise RuntimeError(f"server error: {answer}")
    return answer["type"], answer.get("message_id")


async def client(url: str, texts: list[str], start: float, until: float, latencies: list[float],
                 name: str) -> None:
    """Closed loop: send, wait for the suggestions, send the next one."""
    import websockets

    async with websockets.connect(url, max_size=1 << 22, compression=None) as ws:
        await ws.recv()  # welcome
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        i = 0
        while time.perf_counter() < until and i < len(texts):
            frame = {"type": "customer_message", "conversation_id": name, "message_id": f"{name}-{i}",
                     "text": texts[i], "attachments": []}
            started = time.perf_counter()
            await ws.send(json.dumps(frame, ensure_ascii=False))
            while True:
                kind, _ = _answer_kind(await ws.recv())
                if kind == "suggestions":
                    latencies.append((time.perf_counter() - started) * 1000)
                elif kind == "ack":
                    break
            i += 1


async def paced_client(url: str, texts: list[str], interval: float, start: float, until: float,
                       latencies: list[float], name: str) -> None:
    """Open loop: send on a fixed schedule whatever the answers do; time each answer."""
    import websockets

    async with websockets.connect(url, max_size=1 << 22, compression=None) as ws:
        await ws.recv()  # welcome
        sent: dict[str, float] = {}
        answered = asyncio.Event()  # set whenever no message awaits its suggestions

        async def receive() -> None:
            async for raw in ws:
                kind, message_id = _answer_kind(raw)
                if kind == "suggestions":
                    latencies.append((time.perf_counter() - sent.pop(message_id)) * 1000)
                    if not sent:
                        answered.set()

        receiver = asyncio.create_task(receive())
        for i, text in enumerate(texts):
            due = start + i * interval
            if due >= until:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            message_id = f"{name}-{i}"
            answered.clear()
            sent[message_id] = time.perf_counter()
            await ws.send(json.dumps({"type": "customer_message", "conversation_id": name,
                                      "message_id": message_id, "text": text, "attachments": []},
                                     ensure_ascii=False))
        # Stop at the last answer, not at the next frame after it (a heartbeat, seconds later).
        await asyncio.wait_for(asyncio.wait([receiver, asyncio.create_task(answered.wait())],
                                            return_when=asyncio.FIRST_COMPLETED), timeout=30)
        if receiver.done():
            receiver.result()  # a server error, or the server closed the connection
            raise RuntimeError("connection closed before every message was answered")
        receiver.cancel()


@dataclass
class Job:
    """One client process's share of a phase; ``start_wall`` is shared by every process."""

    url: str
    texts: list[list[str]]  # per connection
    names: list[str]
    start_wall: float
    seconds: float
    interval: float = 0.0  # > 0: open loop, one message per connection every interval
    phases: list[float] = field(default_factory=list)  # open loop: each connection's offset


async def _clients(job: Job) -> list[float]:
    latencies: list[float] = []
    start = job.start_wall - time.time() + time.perf_counter()  # this process's clock
    until = start + job.seconds
    if job.interval:
        runs = [paced_client(job.url, texts, job.interval, start + phase, until, latencies, name)
                for texts, name, phase in zip(job.texts, job.names, job.phases, strict=True)]
    else:
        runs = [client(job.url, texts, start, until, latencies, name)
                for texts, name in zip(job.texts, job.names, strict=True)]
    await asyncio.gather(*runs)
    return latencies


def run_job(job: Job) -> tuple[list[float], float]:
    """In a client process: (latencies in ms, CPU seconds this process spent)."""
    cpu = time.process_time()
    try:
        import uvloop  # comes with uvicorn[standard]; a cheaper loop leaves more CPU to the server
        latencies = uvloop.run(_clients(job))
    except ImportError:
        latencies = asyncio.run(_clients(job))
    return latencies, time.process_time() - cpu


def run_phase(pool: ProcessPoolExecutor, server: Server, processes: int, connections: int,
              seconds: float, seed: int, rate: float | None = None) -> dict:
    """``connections`` clients spread over ``processes`` client processes; latency and CPU."""
    interval = connections / rate if rate else 0.0
    per_client = int(seconds / interval) + 2 if rate else int(seconds * 400) + 10
    texts = make_messages(per_client * connections, seed)
    rng = random.Random(seed)
    phases = [rng.random() * interval for _ in range(connections)]
    start_wall = time.time() + 1.0 + 0.002 * connections  # every connection open first
    prefix = "p" if rate else "c"
    shares = [range(n, connections, processes) for n in range(min(processes, connections))]
    jobs = [Job(server.url, [texts[n * per_client:(n + 1) * per_client] for n in share],
                [f"{prefix}{seed}-{n}" for n in share], start_wall, seconds, interval,
                [phases[n] for n in share]) for share in shares]
    futures = [pool.submit(run_job, job) for job in jobs]
    time.sleep(max(0.0, start_wall - time.time()))
    server_cpu = cpu_seconds(server.process.pid)
    results = [f.result() for f in futures]
    elapsed = max(time.time() - start_wall, seconds)
    server_cpu = cpu_seconds(server.process.pid) - server_cpu
    latencies = [x for lat, _ in results for x in lat]
    client_cpu = sum(cpu for _, cpu in results)
    n = max(len(latencies), 1)
    return {"connections": connections, "offered_per_s": rate or 0.0, "messages": len(latencies),
            "msg_per_s": len(latencies) / elapsed, "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95), "p99_ms": percentile(latencies, 99),
            "server_cpu_ms": server_cpu / n * 1000, "client_cpu_ms": client_cpu / n * 1000,
            "server_share": server_cpu / max(server_cpu + client_cpu, 1e-9)}


def raw_embedder(n: int, seed: int) -> float:
    """Messages per second of the bare embedder in batches of 64 (distinct texts, no cache)."""
    from assist.embedders import shared_embedder

    embedder = shared_embedder("use")
    texts = list(dict.fromkeys(make_messages(n * 2, seed + 7919)))[:n]
    embedder.encode(texts[:8])
    started = time.perf_counter()
    for i in range(0, len(texts), 64):
        embedder.encode(texts[i:i + 64])
    return len(texts) / (time.perf_counter() - started)


def one_run(pool: ProcessPoolExecutor, server: Server, args: argparse.Namespace, seed: int) -> dict:
    light = run_phase(pool, server, 1, 1, args.light_seconds, seed)
    heavy = run_phase(pool, server, args.processes, args.connections, args.seconds, seed + 1)
    paced = run_phase(pool, server, args.processes, args.connections, args.seconds, seed + 2, args.rate)
    raw = raw_embedder(args.raw_messages, seed)
    return {"light": light, "heavy": heavy, "paced": paced, "raw_msg_per_s": raw,
            "ratio": heavy["msg_per_s"] / raw}


def _cpu(phase: dict) -> str:
    return (f"; CPU per message: server {phase['server_cpu_ms']:.2f} ms, client "
            f"{phase['client_cpu_ms']:.2f} ms (server {phase['server_share']:.0%})")


def show(label: str, run: dict) -> None:
    light, heavy, paced = run["light"], run["heavy"], run["paced"]
    print(f"{label}: light load (1 conn): {light['msg_per_s']:.0f} msg/s, p50 {light['p50_ms']:.1f} ms, "
          f"p95 {light['p95_ms']:.1f} ms, p99 {light['p99_ms']:.1f} ms")
    print(f"{label}: {heavy['connections']} connections, saturated: {heavy['msg_per_s']:.0f} msg/s "
          f"({heavy['messages']:.0f} messages), p50 {heavy['p50_ms']:.1f} ms, p95 {heavy['p95_ms']:.1f} ms, "
          f"p99 {heavy['p99_ms']:.1f} ms" + _cpu(heavy))
    print(f"{label}: {paced['connections']} connections at {paced['offered_per_s']:.0f} msg/s offered: "
          f"{paced['msg_per_s']:.0f} msg/s answered, p50 {paced['p50_ms']:.1f} ms, "
          f"p95 {paced['p95_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms" + _cpu(paced))
    print(f"{label}: raw batched embedder {run['raw_msg_per_s']:.0f} msg/s; service/raw = "
          f"{run['ratio']:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0, help="heavy-load phase length")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="total offered messages/s in the sustained-rate phase")
    parser.add_argument("--light-seconds", type=float, default=3.0)
    parser.add_argument("--processes", type=int, default=2,
                        help="client processes sharing the connections (each its own event loop)")
    parser.add_argument("--raw-messages", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=1, help="runs; medians are reported")
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="assist-load-") as tmp:
        server = Server(Path(tmp), args.knowledge)
        try:
            stats0 = server.stats()
            runs = []
            # spawn, not fork: after the first run this process holds the embedder's threads.
            with ProcessPoolExecutor(max(args.processes, 1), mp_context=get_context("spawn")) as pool:
                for r in range(args.repeat):
                    runs.append(one_run(pool, server, args, seed=1000 * (r + 1)))
                    show(f"run {r + 1}", runs[-1])
            stats = server.stats()
        finally:
            server.stop()
    median = {
        "light": {k: statistics.median(r["light"][k] for r in runs) for k in runs[0]["light"]},
        "heavy": {k: statistics.median(r["heavy"][k] for r in runs) for k in runs[0]["heavy"]},
        "paced": {k: statistics.median(r["paced"][k] for r in runs) for k in runs[0]["paced"]},
        "raw_msg_per_s": statistics.median(r["raw_msg_per_s"] for r in runs),
        "ratio": statistics.median(r["ratio"] for r in runs),
    }
    delta = {k: stats.get(k, 0) - stats0.get(k, 0)
             for k in ("batches", "messages", "result_cache_hits", "cache_hits", "cache_misses")}
    print(f"server: {delta['messages']} messages computed in {delta['batches']} batches "
          f"(mean {delta['messages'] / max(delta['batches'], 1):.1f}), "
          f"{delta['result_cache_hits']} answered from the result cache; embedding cache hits "
          f"{delta['cache_hits']}, misses {delta['cache_misses']}")
    if args.repeat > 1:
        show(f"median of {args.repeat}", median)
    if args.json:
        print(json.dumps({"runs": runs, "median": median}, indent=1))


if __name__ == "__main__":
    main()
