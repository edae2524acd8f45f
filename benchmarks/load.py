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

Traffic (``--mix``): by default ("questions") messages are varied: about one in six
(``COMMON_SHARE``) is a common short message that real chats repeat verbatim ("在吗", "好的");
the rest are composed from 40 templates with products, sizes, colours, prices, quantities,
dates, cities, order numbers and phrasing variants, so fewer than 1% of them repeat.
``--mix chat`` gives the shape of real shop chats instead: half the turns are acknowledgements
(30%) or bare order numbers, links and emoji (20%). Every phase prints the measured share of
texts the server had already been sent (in that phase or an earlier one), and how many it
answered from its result cache. Each run and phase has its own seed, so a later run does not
replay an earlier one's texts.
Latency is measured by the client: frame sent → suggestions received. The clients run in
``--processes`` processes (2), each with its own event loop, so that the client side is not the
bottleneck; the server's and the clients' CPU time per message are reported for the two
200-connection phases (server from /proc, so Linux only).

    python benchmarks/load.py                     # one run
    python benchmarks/load.py --repeat 3          # three runs, medians reported
    python benchmarks/load.py --seconds 5 --connections 100 --rate 500
    python benchmarks/load.py --sweep 100,200,400,600,800,1000   # highest rate with p99 <= 50 ms
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
Latency = tuple[float, bool]  # (ms, whether the text is one of the COMMON messages)


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
    """``assist serve`` in a subprocess with a bench token and no per-connection rate limit."""

    def __init__(self, workdir: Path, knowledge: Path, env_overrides: dict[str, str] | None = None) -> None:
        self.port = free_port()
        env = {**os.environ, "ASSIST_TOKENS": f"{TOKEN}:admin", "ASSIST_DEV": "false",
               "ASSIST_RATE_PER_S": "100000", "ASSIST_RATE_BURST": "100000",
               # One token on every connection: the per-token limits (see abuse.py) are off here.
               "ASSIST_TOKEN_RATE_PER_S": "100000", "ASSIST_TOKEN_RATE_BURST": "100000",
               "ASSIST_TOKEN_QUEUE": "100000", "ASSIST_BATCH_MAX_PER_TOKEN": "1000000",
               "ASSIST_MAX_CONNECTIONS_PER_TOKEN": "100000",
               "ASSIST_LOG_STORE": f"sqlite:///{workdir}/log.db", **(env_overrides or {})}
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
                kind, _ = _answer_kind(await ws.recv())
                if kind == "suggestions":
                    latencies.append(((time.perf_counter() - started) * 1000, texts[i] in COMMON_SET))
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
                kind, message_id = _answer_kind(raw)
                if kind == "suggestions":
                    sent_at, common = sent.pop(message_id)
                    latencies.append(((time.perf_counter() - sent_at) * 1000, common))
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

    url: str
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
        runs = [paced_client(job.url, texts, job.interval, start + phase, until, latencies, name)
                for texts, name, phase in zip(job.texts, job.names, job.phases, strict=True)]
    else:
        runs = [client(job.url, texts, start, until, latencies, name)
                for texts, name in zip(job.texts, job.names, strict=True)]
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


def run_phase(pool: ProcessPoolExecutor, server: Server, processes: int, connections: int,
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
    jobs = [Job(server.url, [per_connection[n] for n in share],
                [f"{prefix}{seed}-{n}" for n in share], start_wall, seconds, interval,
                [phases[n] for n in share]) for share in shares]
    stats0 = server.stats()
    futures = [pool.submit(run_job, job) for job in jobs]
    time.sleep(max(0.0, start_wall - time.time()))
    server_cpu = cpu_seconds(server.process.pid)
    results = [f.result() for f in futures]
    elapsed = max(time.time() - start_wall, seconds)
    server_cpu = cpu_seconds(server.process.pid) - server_cpu
    stats = server.stats()
    timed = [x for lat, _, _ in results for x in lat]
    latencies = [ms for ms, _ in timed]
    common = [ms for ms, is_common in timed if is_common]
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


def one_run(pool: ProcessPoolExecutor, server: Server, args: argparse.Namespace, seed: int,
            seen: set[str]) -> dict:
    mix = MIXES[args.mix]
    light = run_phase(pool, server, 1, 1, args.light_seconds, seed, seen, mix=mix)
    heavy = run_phase(pool, server, args.processes, args.connections, args.seconds, seed + 1, seen,
                      mix=mix)
    paced = run_phase(pool, server, args.processes, args.connections, args.seconds, seed + 2, seen,
                      args.rate, mix)
    raw = raw_embedder(args.raw_messages, seed)
    return {"light": light, "heavy": heavy, "paced": paced, "raw_msg_per_s": raw,
            "ratio": heavy["msg_per_s"] / raw}


def rate_sweep(pool: ProcessPoolExecutor, server: Server, args: argparse.Namespace,
               seen: set[str]) -> None:
    """Open-loop phases at increasing offered rates: the most this box sustains within the SLO."""
    best, failed = None, False  # conservative: the highest rate below the first miss
    for n, rate in enumerate(args.sweep):
        phase = run_phase(pool, server, args.processes, args.connections, args.seconds,
                          5000 + n, seen, rate, MIXES[args.mix])
        ok = phase["p99_ms"] <= args.slo_ms and phase["msg_per_s"] >= 0.97 * rate
        failed = failed or not ok
        best = rate if not failed else best
        print(f"offered {rate:.0f} msg/s: answered {phase['msg_per_s']:.0f}, p50 "
              f"{phase['p50_ms']:.1f} ms, p95 {phase['p95_ms']:.1f} ms, p99 {phase['p99_ms']:.1f} ms "
              f"{'within' if ok else 'outside'} the SLO" + _cpu(phase))
    print(f"highest offered rate with p99 <= {args.slo_ms:.0f} ms at {args.connections} connections "
          "(it and every lower rate tried): "
          + (f"{best:.0f} msg/s" if best else "none of those tried"))


def _cpu(phase: dict) -> str:
    return (f"; CPU per message: server {phase['server_cpu_ms']:.2f} ms, client "
            f"{phase['client_cpu_ms']:.2f} ms (server {phase['server_share']:.0%})" + _repeats(phase))


def _repeats(phase: dict) -> str:
    return (f"; mean batch {phase['mean_batch']:.1f}; repeated texts {phase['repeat_share']:.1%}, "
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
                        metavar="R1,R2,...", help="instead of the runs: open-loop phases at these "
                        "offered rates, and the highest one whose p99 meets --slo-ms")
    parser.add_argument("--slo-ms", type=float, default=50.0, help="p99 target for --sweep")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="assist-load-") as tmp:
        server = Server(Path(tmp), args.knowledge)
        try:
            stats0 = server.stats()
            runs = []
            seen: set[str] = set()  # every text sent to this server: repeats are counted against it
            # spawn, not fork: after the first run this process holds the embedder's threads.
            with ProcessPoolExecutor(max(args.processes, 1), mp_context=get_context("spawn")) as pool:
                if args.sweep:
                    rate_sweep(pool, server, args, seen)
                    return
                for r in range(args.repeat):
                    runs.append(one_run(pool, server, args, 1000 * (r + 1), seen))
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
