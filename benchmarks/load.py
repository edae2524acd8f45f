"""Load benchmark: concurrent websocket clients against real ``assist serve`` processes over loopback.

Starts ``assist serve`` in a subprocess on the shipped knowledge (index built into a temporary
folder, default embedder): one process by default, ``--workers N`` processes on one port, or
``--servers M`` servers on their own ports behind one Redis (each may have workers), with the
connections spread over them. Each run measures, in one go:

1. light load: one client, one message at a time: round-trip latency p50/p95/p99;
2. saturation: ``--connections`` clients (200), each sending its next message as soon as the
   last one's suggestions arrive, for ``--seconds``: the most the service sustains, and its
   latency when every client always waits (by Little's law p50 ≈ connections / throughput);
3. the SLO sweep: the same connections sending on a schedule (open loop) at 10%, 20%, 30%,
   45%, 60%, 70%, 80%, 90% of the saturated rate just measured (or ``--sweep R1,R2,..``), up to the first
   rate whose p99 exceeds ``--slo-ms`` (50): the SLO-bounded throughput is the highest rate
   within it, also given as a share of the saturated one;
4. with several processes: cross-process delivery: one sender, subscribers of its conversation
   on the other processes; the time the hop through Redis adds over the sender's own answer;
5. raw batched embedder throughput (this process, batches of 64, the benchmark's own texts);
6. optionally (``--rate``) a sustained-rate phase at that total offered rate.

Traffic (``--mix``): by default ("questions") messages are varied: about one in six
(``COMMON_SHARE``) is a common short message that real chats repeat verbatim ("在吗", "好的");
the rest are composed from 40 templates with products, sizes, colours, prices, quantities,
dates, cities, order numbers and phrasing variants, so fewer than 1% of them repeat.
``--mix chat`` gives the shape of real shop chats instead: half the turns are acknowledgements
(30%) or bare order numbers, links and emoji (20%). Every phase prints the measured share of
texts the server had already been sent (in that phase or an earlier one), and how many it
answered from its result cache. Each run and phase has its own seed, so a later run does not
replay an earlier one's texts.
Latency is measured by the client: frame sent → suggestions received; the server-side part
(the frame's ``latency_ms``) is printed next to it. The clients run in ``--processes``
processes (2), each with its own event loop, so that the client side is not the bottleneck;
the server's CPU time per message (all its processes and threads, from /proc, so Linux only)
and the clients' are reported for every 200-connection phase, with the machine's load
average (other work on a shared machine makes every latency figure noisier).

    python benchmarks/load.py                     # one run
    python benchmarks/load.py --repeat 3          # three runs, medians reported
    python benchmarks/load.py --workers 2         # two processes on one port (system Redis)
    python benchmarks/load.py --servers 2 --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TOKEN = "bench-admin-token"

# Traffic: about one message in six is a common short one that real chats repeat verbatim
# ("在吗", "好的"); the rest are composed from many templates, products, numbers and phrasings,
# so exact repeats among them are rare. Each phase prints the measured share of repeated texts.
COMMON_SHARE = 0.17


@dataclass(frozen=True)
class Mix:
    """Traffic mix: shares of verbatim-common messages and of content-free turns."""

    common: float
    bare: float  # bare order/tracking numbers, pasted links, emoji: no embedding needed


# "questions": the hard case, almost every message a distinct question. "chat": the shape of real
# shop chats, where about half of buyer turns are acknowledgements, bare order numbers, links or
# emoji (measured on real JD.com customer messages, see issue 2).
MIXES = {"questions": Mix(common=COMMON_SHARE, bare=0.0), "chat": Mix(common=0.3, bare=0.2)}
BARE = ["{o}", "订单号{o}", "{courier} {t}", "https://item.taobao.com/item.htm?id={o}", "👍", "[微笑]",
        "🙏🙏", "https://detail.tmall.com/item.htm?id={o}", "单号 {t}", "{o} 这个"]
COMMON = ["在吗", "好的", "在吗?", "谢谢", "发货了吗", "好的谢谢", "有人吗", "嗯嗯", "亲在吗", "包邮吗",
          "什么时候发货", "能便宜点吗", "ok", "收到了", "好的亲", "哦哦", "在不在", "有货吗", "多久能到",
          "还在吗", "谢谢亲", "嗯", "可以", "知道了"]
TEMPLATES = [
    "这款{p}{s}码的还有货吗", "我身高{h}体重{w}斤,{p}穿什么码", "{p}要{c}的,拍{k}件能便宜吗",
    "订单{o}怎么还没发货", "快递{d}天了还没到,单号{o}", "{p}收到了,{c}的有点掉色",
    "{c}的{p}能换成{c2}吗,订单{o}", "{p}{y}块能卖吗", "买{k}件{p}有什么优惠", "{p}是正品吗,有{c}的吗",
    "地址填错了,改成{city}{r}路{d}号可以吗", "{c}的{p}质量怎么样,洗了会不会起球", "{p}{s}码偏{z}了,我要退货",
    "退款{y}块什么时候到账,等了{d}天了", "{p}能开发票吗,抬头是{corp}", "{p}{s}码腰围是多少",
    "{c}的{p}什么时候补货", "发{courier}吗,{m}月{day}号之前能到{city}吗", "{p}和{p2}一起买能包邮吗",
    "我拍了{k}件{p},能分开发{courier}吗", "{p}有没有{s}码的{c}", "{p}为什么比昨天贵了{d}块",
    "{city}发货吗,到{city2}要几天", "{p}我{m}月{day}号买的,还能退吗", "{c}{p}和{c2}的哪个好看",
    "{p}的尺码表发我一下,我{h}cm", "满{y}减{d}的券买{p}怎么用不了", "收到的{p}少了{k}件,订单{o}",
    "{p}的{part}坏了,能换一个吗", "{p}能不能{m}月{day}号再发货", "{k}件{p}一共{y}对吗",
    "{p}洗的时候会缩水吗,{c}的", "你们{p}是{city}发的吗", "{p}预售要等几天,{m}月{day}号能发吗",
    "我体重{w}斤,{p}{s}码会不会紧", "买{p}送的{gift}怎么没收到", "{p}的价格能保到{m}月{day}号吗",
    "{courier}单号{o}显示签收了但我没收到", "{p}{s}码和{s2}码差多少", "上次买的{p}{c}的很好,还想要{k}件",
]
ADJECTIVES = ["", "", "纯棉", "加绒", "修身", "宽松", "新款", "男款", "女款", "儿童", "高腰", "复古", "夏季",
              "加厚", "防水", "轻薄", "真丝", "针织", "百搭", "大码"]
NOUNS = ["连衣裙", "运动鞋", "卫衣", "羽绒服", "牛仔裤", "衬衫", "帆布鞋", "保温杯", "双肩包", "T恤", "风衣",
         "毛衣", "短裤", "拖鞋", "围巾", "半身裙", "西装", "睡衣", "马甲", "打底衫", "阔腿裤", "冲锋衣",
         "雪地靴", "凉鞋", "棒球帽", "手提包", "床单", "四件套", "枕头", "蓝牙耳机", "充电宝", "手机壳"]
COLOURS = ["黑色", "白色", "红色", "藏青", "米色", "灰色", "粉色", "卡其色", "酒红", "墨绿", "浅蓝", "杏色",
           "紫色", "咖啡色", "军绿", "奶白"]
SIZES = ["S", "M", "L", "XL", "XXL", "3XL", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44",
         "150", "160", "165", "170", "175"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆", "天津", "苏州",
          "长沙", "郑州", "沈阳", "青岛", "厦门", "昆明", "大连", "合肥", "哈尔滨", "济南", "福州", "南宁"]
COURIERS = ["顺丰", "圆通", "中通", "申通", "韵达", "京东快递", "邮政", "极兔"]
PARTS = ["拉链", "扣子", "鞋带", "盖子", "肩带", "线头", "充电口", "包装"]
GIFTS = ["袜子", "小样", "钥匙扣", "收纳袋", "鞋垫", "贴纸"]
CORPS = ["某某科技有限公司", "个人", "我们单位", "贸易公司", "学校"]
ROADS = ["人民", "中山", "解放", "建设", "和平", "长江", "南京", "文化"]
PREFIXES = ["", "", "", "", "亲,", "你好,", "请问", "老板,", "客服,", "在吗,", "哈喽,", "麻烦问下,"]
SUFFIXES = ["", "", "", "?", "??", "呀", "啊", "~", ",谢谢", ",急", "。", "!"]


COMMON_SET = frozenset(COMMON)
# (ms at the client, whether the text is one of the COMMON messages, ms the server reports:
# from reading the frame to sending the suggestions; the rest is the network, the client's own
# event loop and, on a shared machine, waiting for a core)
Latency = tuple[float, bool, float]


def make_messages(n: int, seed: int, mix: Mix = MIXES["questions"]) -> list[str]:
    """``n`` buyer messages in the proportions of ``mix``."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(COMMON))]  # a few dominate, as in real chats
    out = []
    for _ in range(n):
        draw = rng.random()
        if draw < mix.common:
            out.append(rng.choices(COMMON, weights)[0])
            continue
        if draw < mix.common + mix.bare:
            out.append(rng.choice(BARE).format(o=rng.randint(10**15, 10**16 - 1),
                                               t=f"YT{rng.randint(10**12, 10**13 - 1)}",
                                               courier=rng.choice(COURIERS)))
            continue
        c, c2 = rng.sample(COLOURS, 2)
        city, city2 = rng.sample(CITIES, 2)
        s, s2 = rng.sample(SIZES, 2)
        text = rng.choice(TEMPLATES).format(
            p=_product(rng), p2=_product(rng), s=s, s2=s2, c=c, c2=c2, city=city, city2=city2,
            h=rng.randint(150, 190), w=rng.randint(80, 200), k=rng.randint(1, 10),
            d=rng.randint(1, 30), y=rng.randint(9, 999), m=rng.randint(1, 12), day=rng.randint(1, 28),
            z=rng.choice("大小"), o=rng.randint(10**15, 10**16 - 1), courier=rng.choice(COURIERS),
            part=rng.choice(PARTS), gift=rng.choice(GIFTS), corp=rng.choice(CORPS),
            r=rng.choice(ROADS))
        out.append(rng.choice(PREFIXES) + text + rng.choice(SUFFIXES))
    return out


def _product(rng: random.Random) -> str:
    return rng.choice(ADJECTIVES) + rng.choice(NOUNS)


def repeat_share(texts: list[str], seen: set[str]) -> float:
    """Share of ``texts`` sent before (earlier in the list or in ``seen``); adds them to ``seen``."""
    repeats = 0
    for text in texts:
        repeats += text in seen
        seen.add(text)
    return repeats / max(len(texts), 1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``assist serve`` in a subprocess with a bench token and no per-connection rate limit.

    ``workers`` > 1 or ``redis`` join it to the other servers of the same Redis ``prefix``;
    servers started with the same ``workdir`` share its index directory."""

    def __init__(self, workdir: Path, knowledge: Path, name: str = "server", workers: int = 1,
                 redis: str = "", prefix: str = "", log_store: str = "",
                 env_overrides: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.workers = workers
        self._known: dict[int, dict] = {}  # each worker's latest counters
        env = {**os.environ, "ASSIST_TOKENS": f"{TOKEN}:admin", "ASSIST_DEV": "false",
               "ASSIST_RATE_PER_S": "100000", "ASSIST_RATE_BURST": "100000",
               # One token on every connection: the per-token limits (see abuse.py) are off here.
               "ASSIST_TOKEN_RATE_PER_S": "100000", "ASSIST_TOKEN_RATE_BURST": "100000",
               "ASSIST_TOKEN_QUEUE": "100000", "ASSIST_BATCH_MAX_PER_TOKEN": "1000000",
               "ASSIST_MAX_CONNECTIONS_PER_TOKEN": "100000",
               "ASSIST_LOG_STORE": log_store or f"sqlite:///{workdir}/{name}-log.db",
               **(env_overrides or {})}
        command = [sys.executable, "-c", "from assist.cli import main; main()", "serve",
                   "--knowledge", str(knowledge), "--index", str(workdir / "index"),
                   "--data", str(workdir / f"data-{name}"), "--port", str(self.port),
                   "--workers", str(workers)]
        if redis:
            command += ["--redis", redis]
            env["ASSIST_REDIS_PREFIX"] = prefix
        self.log_path = workdir / f"{name}.log"
        with open(self.log_path, "w") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                                            stderr=log)
        self.url = f"ws://127.0.0.1:{self.port}/ws?token={TOKEN}"
        deadline = time.monotonic() + 600  # the first start builds the index
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited; see {self.log_path}")
            try:
                if len(self.stats_by_pid()) >= workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("server did not start in time")

    def _stats_once(self) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/admin/stats",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    def stats_by_pid(self) -> dict[int, dict]:
        """Each worker's counters. Behind one port the kernel picks the worker (an idle one
        takes most connections), so ask until every worker has answered this time, for up to
        ~3 s; a worker that did not answer counts with its last known figures."""
        fresh: set[int] = set()
        for _ in range(max(1, 300 * (self.workers - 1))):
            answer = self._stats_once()
            pid = answer.get("pid", 0)
            self._known[pid] = answer
            fresh.add(pid)
            if len(fresh) >= self.workers:
                break
            time.sleep(0.01)
        return dict(self._known)

    def pids(self) -> list[int]:
        """The server and its workers (uvicorn's manager spawns them)."""
        out, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            with contextlib.suppress(OSError):
                todo += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return out

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


class Fleet:
    """The servers under test: one, or several on their own ports behind one Redis."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self.urls = [server.url for server in servers]

    def stats(self) -> dict:
        """Counters summed over every server and worker."""
        total: dict = {}
        for server in self.servers:
            for answer in server.stats_by_pid().values():
                for key, value in answer.items():
                    if isinstance(value, int | float) and key != "pid":
                        total[key] = total.get(key, 0) + value
        return total

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for server in self.servers for pid in server.pids()
                   if Path(f"/proc/{pid}").exists())

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # it exited meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _answer_kind(raw: str | bytes) -> tuple[str, str | None]:
    """(type, message_id) of a server frame: the client decodes just enough to time it."""
    kind, message_id, _ = _answer(raw)
    return kind, message_id


def _answer(raw: str | bytes) -> tuple[str, str | None, float]:
    """(type, message_id, server-side latency_ms or 0) of a server frame."""
    answer = json.loads(raw)
    if answer["type"] == "error":
        raise RuntimeError(f"server error: {answer}")
    return answer["type"], answer.get("message_id"), answer.get("latency_ms", 0.0)


async def client(url: str, texts: list[str], start: float, until: float, latencies: list[Latency],
                 name: str) -> int:
    """Closed loop: send, wait for the suggestions, send the next one; returns how many were sent."""
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
                kind, _, server_ms = _answer(await ws.recv())
                if kind == "suggestions":
                    latencies.append(((time.perf_counter() - started) * 1000, texts[i] in COMMON_SET,
                                      server_ms))
                elif kind == "ack":
                    break
            i += 1
        return i


async def paced_client(url: str, texts: list[str], interval: float, start: float, until: float,
                       latencies: list[Latency], name: str) -> int:
    """Open loop: send on a fixed schedule whatever the answers do; time each answer.

    Returns how many messages were sent."""
    import websockets

    async with websockets.connect(url, max_size=1 << 22, compression=None) as ws:
        await ws.recv()  # welcome
        sent: dict[str, tuple[float, bool]] = {}  # awaiting their suggestions: (sent at, common)
        sent_ids: list[str] = []
        answered = asyncio.Event()  # set whenever no message awaits its suggestions

        async def receive() -> None:
            async for raw in ws:
                kind, message_id, server_ms = _answer(raw)
                if kind == "suggestions":
                    sent_at, common = sent.pop(message_id)
                    latencies.append(((time.perf_counter() - sent_at) * 1000, common, server_ms))
                    if not sent:
                        answered.set()

        receiver = asyncio.create_task(receive())
        for i, text in enumerate(texts):
            due = start + i * interval
            if due >= until:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            message_id = f"{name}-{i}"
            sent_ids.append(message_id)
            answered.clear()
            sent[message_id] = (time.perf_counter(), text in COMMON_SET)
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
        return len(sent_ids)


@dataclass
class Job:
    """One client process's share of a phase; ``start_wall`` is shared by every process."""

    urls: list[str]  # per connection (spread over the servers)
    texts: list[list[str]]  # per connection
    names: list[str]
    start_wall: float
    seconds: float
    interval: float = 0.0  # > 0: open loop, one message per connection every interval
    phases: list[float] = field(default_factory=list)  # open loop: each connection's offset


async def _clients(job: Job) -> tuple[list[Latency], list[int]]:
    latencies: list[Latency] = []
    start = job.start_wall - time.time() + time.perf_counter()  # this process's clock
    until = start + job.seconds
    if job.interval:
        runs = [paced_client(url, texts, job.interval, start + phase, until, latencies, name)
                for url, texts, name, phase in zip(job.urls, job.texts, job.names, job.phases,
                                                   strict=True)]
    else:
        runs = [client(url, texts, start, until, latencies, name)
                for url, texts, name in zip(job.urls, job.texts, job.names, strict=True)]
    sent = await asyncio.gather(*runs)
    return latencies, list(sent)


def run_job(job: Job) -> tuple[list[Latency], list[int], float]:
    """In a client process: (latencies in ms, messages sent per connection, CPU seconds spent)."""
    cpu = time.process_time()
    try:
        import uvloop  # comes with uvicorn[standard]; a cheaper loop leaves more CPU to the server
        latencies, sent = uvloop.run(_clients(job))
    except ImportError:
        latencies, sent = asyncio.run(_clients(job))
    return latencies, sent, time.process_time() - cpu


def run_phase(pool: ProcessPoolExecutor, server: Fleet, processes: int, connections: int,
              seconds: float, seed: int, seen: set[str], rate: float | None = None,
              mix: Mix = MIXES["questions"]) -> dict:
    """``connections`` clients spread over ``processes`` client processes; latency and CPU.

    ``seen`` holds every text sent to this server so far: the phase's repeat share is measured
    against it (and its texts are added)."""
    interval = connections / rate if rate else 0.0
    # Closed loop: enough texts for 400 msg/s on one connection, 5,000 msg/s over all of them.
    per_client = int(seconds / interval) + 2 if rate else int(seconds * min(400, 5000 / connections)) + 10
    texts = make_messages(per_client * connections, seed, mix)
    rng = random.Random(seed)
    phases = [rng.random() * interval for _ in range(connections)]
    start_wall = time.time() + 1.0 + 0.002 * connections  # every connection open first
    prefix = "p" if rate else "c"
    shares = [range(n, connections, processes) for n in range(min(processes, connections))]
    per_connection = [texts[n * per_client:(n + 1) * per_client] for n in range(connections)]
    jobs = [Job([server.urls[n % len(server.urls)] for n in share], [per_connection[n] for n in share],
                [f"{prefix}{seed}-{n}" for n in share], start_wall, seconds, interval,
                [phases[n] for n in share]) for share in shares]
    stats0 = server.stats()
    futures = [pool.submit(run_job, job) for job in jobs]
    time.sleep(max(0.0, start_wall - time.time()))
    server_cpu = server.cpu_seconds()
    results = [f.result() for f in futures]
    elapsed = max(time.time() - start_wall, seconds)
    server_cpu = server.cpu_seconds() - server_cpu
    stats = server.stats()
    timed = [x for lat, _, _ in results for x in lat]
    latencies = [ms for ms, _, _ in timed]
    common = [ms for ms, is_common, _ in timed if is_common]
    server_side = [ms for _, _, ms in timed]
    client_cpu = sum(cpu for _, _, cpu in results)
    sent_texts = [text for share, (_, sent, _) in zip(shares, results, strict=True)
                  for n, count in zip(share, sent, strict=True) for text in per_connection[n][:count]]
    hits, batches, computed = (stats[k] - stats0[k] for k in ("result_cache_hits", "batches", "messages"))
    n = max(len(latencies), 1)
    return {"connections": connections, "offered_per_s": rate or 0.0, "messages": len(latencies),
            "repeat_share": repeat_share(sent_texts, seen),
            "result_cache_share": hits / max(len(sent_texts), 1),
            "mean_batch": computed / max(batches, 1),
            "msg_per_s": len(latencies) / elapsed, "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95), "p99_ms": percentile(latencies, 99),
            "server_p50_ms": percentile(server_side, 50), "server_p99_ms": percentile(server_side, 99),
            "common_p50_ms": percentile(common, 50), "common_p99_ms": percentile(common, 99),
            "server_cpu_ms": server_cpu / n * 1000, "client_cpu_ms": client_cpu / n * 1000,
            "server_share": server_cpu / max(server_cpu + client_cpu, 1e-9)}


def raw_embedder(n: int, seed: int) -> float:
    """Messages per second of the bare embedder in batches of 64 (distinct texts, no cache)."""
    from assist.core.embedders import shared_embedder

    embedder = shared_embedder("use")
    texts = list(dict.fromkeys(make_messages(n * 2, seed + 7919)))[:n]
    embedder.encode(texts[:8])
    started = time.perf_counter()
    for i in range(0, len(texts), 64):
        embedder.encode(texts[i:i + 64])
    return len(texts) / (time.perf_counter() - started)


def one_run(pool: ProcessPoolExecutor, server: Fleet, args: argparse.Namespace, seed: int,
            seen: set[str]) -> dict:
    mix = MIXES[args.mix]
    light = run_phase(pool, server, 1, 1, args.light_seconds, seed, seen, mix=mix)
    heavy = run_phase(pool, server, args.processes, args.connections, args.seconds, seed + 1, seen,
                      mix=mix)
    paced = (run_phase(pool, server, args.processes, args.connections, args.seconds, seed + 2, seen,
                       args.rate, mix) if args.rate else None)
    rates = args.sweep or [round(heavy["msg_per_s"] * f, -1) for f in SWEEP_FRACTIONS]
    sweep, slo = rate_sweep(pool, server, args, seen, rates, seed + 10)
    cross = cross_process(server, args.cross_messages, seed) if args.cross_messages else None
    raw = raw_embedder(args.raw_messages, seed)
    return {"light": light, "heavy": heavy, "paced": paced, "raw_msg_per_s": raw,
            "ratio": heavy["msg_per_s"] / raw, "sweep": sweep, "slo_msg_per_s": slo or 0.0,
            "slo_share": (slo or 0.0) / heavy["msg_per_s"], "cross": cross}


# Offered rates of the SLO sweep, as shares of the saturated throughput measured just before.
SWEEP_FRACTIONS = (0.1, 0.2, 0.3, 0.45, 0.6, 0.7, 0.8, 0.9)


def rate_sweep(pool: ProcessPoolExecutor, server: Fleet, args: argparse.Namespace,
               seen: set[str], rates: list[float], seed: int) -> tuple[list[dict], float | None]:
    """Open-loop phases at increasing offered rates, up to the first one outside the SLO:
    the highest rate within it (p99 <= --slo-ms and at least 97% of the offer answered)."""
    best, phases = None, []
    for n, rate in enumerate(rates):
        phase = run_phase(pool, server, args.processes, args.connections, args.seconds,
                          seed + n, seen, rate, MIXES[args.mix])
        ok = phase["p99_ms"] <= args.slo_ms and phase["msg_per_s"] >= 0.97 * rate
        phase["within_slo"] = ok
        phases.append(phase)
        print(f"  offered {rate:.0f} msg/s: answered {phase['msg_per_s']:.0f}, p50 "
              f"{phase['p50_ms']:.1f} ms, p95 {phase['p95_ms']:.1f} ms, p99 {phase['p99_ms']:.1f} ms "
              f"{'within' if ok else 'outside'} the SLO" + _cpu(phase), flush=True)
        if not ok:
            break
        best = rate
    return phases, best


async def _cross(send_url: str, subscriber_urls: list[tuple[str, bool]], n: int,
                 seed: int) -> list[tuple[float, float]]:
    """One sender, subscribers of its conversation on every server; per message: (ms until the
    sender has its suggestions, ms until the slowest remote subscriber has them)."""
    import websockets

    conversation = f"x{seed}"
    texts = make_messages(n, seed + 31)
    arrivals: dict[str, list[float]] = {}
    async with contextlib.AsyncExitStack() as stack:
        sender = await stack.enter_async_context(websockets.connect(send_url, compression=None))
        await sender.recv()
        subscribers = []
        for url, remote in subscriber_urls:
            ws = await stack.enter_async_context(websockets.connect(url, compression=None))
            await ws.recv()
            await ws.send(json.dumps({"type": "subscribe", "conversation_ids": [conversation]}))
            while _answer_kind(await ws.recv())[0] != "subscribed":
                pass
            subscribers.append((ws, remote))

        async def listen(ws: Any, remote: bool) -> None:
            async for raw in ws:
                kind, message_id = _answer_kind(raw)
                if kind == "suggestions" and remote and message_id:
                    arrivals.setdefault(message_id, []).append(time.perf_counter())

        listeners = [asyncio.create_task(listen(ws, remote)) for ws, remote in subscribers]
        remotes = sum(remote for _, remote in subscribers)
        out = []
        for i, text in enumerate(texts):
            message_id = f"{conversation}-{i}"
            started = time.perf_counter()
            await sender.send(json.dumps({"type": "customer_message", "conversation_id": conversation,
                                          "message_id": message_id, "text": text, "attachments": []},
                                         ensure_ascii=False))
            while True:
                kind, got = _answer_kind(await sender.recv())
                if kind == "suggestions" and got == message_id:
                    local = time.perf_counter()
                    break
            deadline = time.perf_counter() + 5
            while len(arrivals.get(message_id, ())) < remotes and time.perf_counter() < deadline:
                await asyncio.sleep(0.0005)
            remote_arrivals = arrivals.get(message_id, [])
            if len(remote_arrivals) == remotes:
                out.append(((local - started) * 1000, (max(remote_arrivals) - started) * 1000))
            await asyncio.sleep(0.02)  # light load: one message at a time
        for task in listeners:
            task.cancel()
    return out


def cross_process(server: Fleet, n: int, seed: int) -> dict | None:
    """Delivery to subscribers on other processes, at light load.

    Several servers: the sender on the first, 4 subscribers on each of the others (all remote).
    One server with workers: 8 subscribers on its port, placed by the kernel, and the slowest
    of them is taken as the remote one (with 2 workers, all 8 land on the sender's worker with
    probability 1/256). One process alone: nothing to measure."""
    if len(server.urls) > 1:
        subscribers = [(url, True) for url in server.urls[1:] for _ in range(4)]
    elif server.servers[0].workers > 1:
        subscribers = [(server.urls[0], True) for _ in range(8)]
    else:
        return None
    timings = asyncio.run(_cross(server.urls[0], subscribers, n, seed))
    if not timings:
        return None
    local = [t[0] for t in timings]
    remote = [t[1] for t in timings]
    added = [r - loc for loc, r in timings]
    return {"messages": len(timings), "local_p50_ms": percentile(local, 50),
            "remote_p50_ms": percentile(remote, 50), "remote_p99_ms": percentile(remote, 99),
            "added_p50_ms": percentile(added, 50), "added_p99_ms": percentile(added, 99)}


def _cpu(phase: dict) -> str:
    return (f"; CPU per message: server {phase['server_cpu_ms']:.2f} ms, client "
            f"{phase['client_cpu_ms']:.2f} ms (server {phase['server_share']:.0%})" + _repeats(phase))


def _repeats(phase: dict) -> str:
    return (f"; server-side p50 {phase['server_p50_ms']:.1f} ms, p99 {phase['server_p99_ms']:.1f} ms"
            f"; mean batch {phase['mean_batch']:.1f}; repeated texts {phase['repeat_share']:.1%}, "
            f"answered from the result cache {phase['result_cache_share']:.1%}; "
            f"common short messages p50 {phase['common_p50_ms']:.1f} ms, "
            f"p99 {phase['common_p99_ms']:.1f} ms")


def show(label: str, run: dict) -> None:
    light, heavy, paced = run["light"], run["heavy"], run["paced"]
    print(f"{label}: light load (1 conn): {light['msg_per_s']:.0f} msg/s, p50 {light['p50_ms']:.1f} ms, "
          f"p95 {light['p95_ms']:.1f} ms, p99 {light['p99_ms']:.1f} ms" + _repeats(light))
    print(f"{label}: {heavy['connections']} connections, saturated: {heavy['msg_per_s']:.0f} msg/s "
          f"({heavy['messages']:.0f} messages), p50 {heavy['p50_ms']:.1f} ms, p95 {heavy['p95_ms']:.1f} ms, "
          f"p99 {heavy['p99_ms']:.1f} ms" + _cpu(heavy))
    if paced:
        print(f"{label}: {paced['connections']} connections at {paced['offered_per_s']:.0f} msg/s "
              f"offered: {paced['msg_per_s']:.0f} msg/s answered, p50 {paced['p50_ms']:.1f} ms, "
              f"p95 {paced['p95_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms" + _cpu(paced))
    print(f"{label}: SLO-bounded (highest offered rate with p99 <= 50 ms, {heavy['connections']} "
          f"connections): {run['slo_msg_per_s']:.0f} msg/s = {run['slo_share']:.0%} of saturated")
    cross = run.get("cross")
    if cross:
        print(f"{label}: cross-process delivery ({cross['messages']:.0f} messages, light load): "
              f"sender p50 {cross['local_p50_ms']:.1f} ms; remote subscriber p50 "
              f"{cross['remote_p50_ms']:.1f} ms, p99 {cross['remote_p99_ms']:.1f} ms; added by the "
              f"hop p50 {cross['added_p50_ms']:.2f} ms, p99 {cross['added_p99_ms']:.2f} ms")
    print(f"{label}: raw batched embedder {run['raw_msg_per_s']:.0f} msg/s; saturated/raw = "
          f"{run['ratio']:.0%}; server CPU per message: saturated {heavy['server_cpu_ms']:.2f} ms, "
          f"light {light['server_cpu_ms']:.2f} ms", flush=True)


def _median_run(runs: list[dict]) -> dict:
    def med(key: str) -> dict | None:
        parts = [r[key] for r in runs if r.get(key)]
        return {k: statistics.median(p[k] for p in parts) for k in parts[0]} if parts else None

    return {"light": med("light"), "heavy": med("heavy"), "paced": med("paced"), "cross": med("cross"),
            **{k: statistics.median(r[k] for r in runs)
               for k in ("raw_msg_per_s", "ratio", "slo_msg_per_s", "slo_share")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0, help="heavy-load phase length")
    parser.add_argument("--rate", type=float, default=None,
                        help="also a sustained-rate phase at this total offered msg/s")
    parser.add_argument("--light-seconds", type=float, default=3.0)
    parser.add_argument("--mix", choices=sorted(MIXES), default="questions",
                        help="traffic: 'questions' (17%% common repeats, the rest distinct questions) "
                             "or 'chat' (half acknowledgements, bare numbers, links, emoji)")
    parser.add_argument("--processes", type=int, default=2,
                        help="client processes sharing the connections (each its own event loop)")
    parser.add_argument("--raw-messages", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=1, help="runs; medians are reported")
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--sweep", type=lambda v: [float(x) for x in v.split(",")], default=None,
                        metavar="R1,R2,...", help="offered rates of the SLO sweep (default: 10-90%% "
                        "of the saturated throughput just measured)")
    parser.add_argument("--slo-ms", type=float, default=50.0, help="p99 target of the sweep")
    parser.add_argument("--workers", type=int, default=1, help="assist serve --workers N")
    parser.add_argument("--servers", type=int, default=1,
                        help="assist serve processes on their own ports behind one Redis; the "
                             "connections are spread over them")
    parser.add_argument("--redis", default=None, help="Redis URL (default with --workers/--servers "
                        "above 1: redis://127.0.0.1:6379/0; a fresh key prefix per run)")
    parser.add_argument("--log-store", default="", help="log store URL of the servers (default: "
                        "one SQLite file each)")
    parser.add_argument("--cross-messages", type=int, default=200,
                        help="messages of the cross-process delivery phase (0: skip)")
    args = parser.parse_args()
    redis = args.redis or ("redis://127.0.0.1:6379/0" if args.workers > 1 or args.servers > 1 else "")
    prefix = f"assist-load-{os.getpid()}-{random.randrange(1 << 30):x}"

    with tempfile.TemporaryDirectory(prefix="assist-load-") as tmp:
        servers: list[Server] = []
        try:
            for n in range(args.servers):  # one after the other: the first builds the index
                servers.append(Server(Path(tmp), args.knowledge, f"server{n}", args.workers, redis,
                                      prefix, args.log_store))
            server = Fleet(servers)
            print(f"{args.servers} server(s) x {args.workers} worker(s)"
                  + (f", Redis {redis}" if redis else ", no Redis") + f"; {os.cpu_count()} CPUs, "
                  f"load average {os.getloadavg()[0]:.1f} at start (other work on this machine)",
                  flush=True)
            stats0 = server.stats()
            runs = []
            seen: set[str] = set()  # every text sent to this server: repeats are counted against it
            # spawn, not fork: after the first run this process holds the embedder's threads.
            with ProcessPoolExecutor(max(args.processes, 1), mp_context=get_context("spawn")) as pool:
                for r in range(args.repeat):
                    runs.append(one_run(pool, server, args, 1000 * (r + 1), seen))
                    show(f"run {r + 1}", runs[-1])
            stats = server.stats()
        finally:
            for started in servers:
                started.stop()
    median = _median_run(runs)
    delta = {k: stats.get(k, 0) - stats0.get(k, 0)
             for k in ("batches", "messages", "result_cache_hits", "cache_hits", "cache_misses")}
    print(f"server: {delta['messages']} messages computed in {delta['batches']} batches "
          f"(mean {delta['messages'] / max(delta['batches'], 1):.1f}), "
          f"{delta['result_cache_hits']} answered from the result cache; embedding cache hits "
          f"{delta['cache_hits']}, misses {delta['cache_misses']}; load average at the end "
          f"{os.getloadavg()[0]:.1f}")
    if args.repeat > 1:
        show(f"median of {args.repeat}", median)
    if args.json:
        print(json.dumps({"runs": runs, "median": median}, indent=1))


if __name__ == "__main__":
    main()
