"""What a job's steps do inside mapfold tasks: picklable callables over lines of bytes.

Every record between substeps is one protocol-encoded line, as between
mrjob's tasks; a task decodes with the protocol the substep reads, runs the
user's functions through :class:`~mapfold.jobs.job.MRJob`'s own
``map_pairs``/``combine_pairs``/``reduce_pairs``, and encodes with the one
it writes. Each task works on its own shallow copy of the job, as each of
mrjob's tasks has its own job instance: what ``mapper_init`` sets on
``self`` is that task's, even on the serial runner, where the tasks of
consecutive steps interleave in one thread.

>>> from mapfold.jobs import MRJob
>>> class Up(MRJob):
...     def mapper(self, _, line):
...         yield line.upper(), 1
>>> list(MapTask(Up(args=[]), 0)([b"a", b"b"]))
[b'"A"\\t1', b'"B"\\t1']
"""
from __future__ import annotations

import copy
import inspect
import itertools
import operator
from typing import Any, Callable, Iterable, Iterator

from ..core.task_context import current_task
from .commands import SH_BIN, command_args, pipe_lines
from .protocols import JSONProtocol, RawValueProtocol, StandardJSONProtocol, TextValueProtocol, _text
from .taskenv import JobEnvironment

__all__ = ["MapTask", "RawMapTask", "ReduceTask", "key_and_value", "line_key", "latin1_bytes", "LATIN1_BYTES", "reads_text"]


def _task_job(job: Any, step_num: int) -> Any:
    """A copy of ``job`` for one task, whose counters go to step ``step_num``."""
    mine = copy.copy(job)
    mine._mapfold_step = step_num
    return mine


def line_key(line: bytes) -> bytes:
    """The key part of an encoded line: the bytes before the first tab (how mrjob sorts).

    >>> line_key(b'"k"\\t1'), line_key(b"no tab")
    (b'"k"', b'no tab')
    """
    return line.split(b"\t", 1)[0]


def latin1_bytes(text: str) -> bytes:
    """A line read as latin-1 back to its exact bytes (latin-1 maps bytes to code points one to one).

    >>> latin1_bytes("caf\\xc3\\xa9")
    b'caf\\xc3\\xa9'
    """
    return text.encode("latin_1")


# latin1_bytes as one C-level call per line (what the job's input Dataset maps)
LATIN1_BYTES = operator.methodcaller("encode", "latin_1")

_MEMO_LIMIT = 1 << 16  # entries per memo before it is cleared: bounds a task's memory on high-cardinality keys
_IMMUTABLE = (str, int, float, bool, type(None))


class _MemoDumps:
    """A codec's ``_dumps`` remembered for str and int objects (words, counts: most map output).

    Exact types only, each in its own table, so ``1``, ``True`` and ``1.0``
    never share an entry. Equivalent to calling ``_dumps`` every time.
    """

    def __init__(self, dumps) -> None:
        self.dumps, self.strs, self.ints = dumps, {}, {}

    def __call__(self, obj: Any) -> bytes:
        kind = type(obj)
        memo = self.strs if kind is str else self.ints if kind is int else None
        if memo is None:
            return self.dumps(obj)
        data = memo.get(obj)
        if data is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            data = memo[obj] = self.dumps(obj)
        return data


class _MemoLoads:
    """A codec's ``_loads`` remembered when the result is immutable (a value shared by records must be)."""

    def __init__(self, loads) -> None:
        self.loads, self.memo = loads, {}

    def __call__(self, data: bytes) -> Any:
        try:
            return self.memo[data]
        except KeyError:
            value = self.loads(data)
            if type(value) in _IMMUTABLE:
                if len(self.memo) >= _MEMO_LIMIT:
                    self.memo.clear()
                self.memo[data] = value
            return value


def _codec(protocol_method) -> Any:
    """The codec behind a protocol's bound ``write``/``read`` when it is one of mapfold's own
    key/value codecs (JSON, pickle, repr): their encoding of a ``str`` or an ``int`` reads back
    equal, which is what the fast paths below rely on. A user's protocol (even a subclass) never
    takes them."""
    from . import protocols

    owner = getattr(protocol_method, "__self__", None)
    exact = (protocols.JSONProtocol, protocols.StandardJSONProtocol, protocols.PickleProtocol,
             protocols.ReprProtocol)
    return owner if type(owner) in exact else None


def _combined(job: Any, num: int, pairs: Iterable[tuple], objects: bool = False) -> Iterator:
    """One map task's output through its combiner, as mrjob runs it: encoded with the
    mapper's output protocol, sorted by key bytes (stably), decoded, combined, encoded.
    The grouping runs at the first record asked for; the combiner's output then flows
    through C-level iterators (no frame of ours per record).

    For a key/value codec (JSON, pickle, repr) the lines are never built: each
    pair is encoded into its key and value bytes, grouped by key bytes in a
    dict (insertion order is the stable sort's order within a key), and the
    keys are visited sorted; equivalent, without the line joins and the sort
    of every record.
    """
    return itertools.chain.from_iterable(_combined_parts(job, num, pairs, objects))


def _combined_parts(job: Any, num: int, pairs: Iterable[tuple], objects: bool) -> Iterator[Iterable]:
    read, write = job.pick_protocols(num, "combiner")
    codec = _codec(write)
    if codec is None:
        ordered = sorted((write(k, v) for k, v in pairs), key=line_key)
        yield (write(k, v) for k, v in job.combine_pairs(map(read, ordered), num))
        return
    dumps, loads = codec._dumps, codec._loads
    groups = _group_pairs(pairs, dumps, loads)
    encode = _MemoDumps(dumps)
    order = _json_plain_order(codec, groups)
    if order is not None or bytes not in set(map(type, groups)):
        if order is None:
            order = [key for _, key in sorted((dumps(key), key) for key in groups)]
        # distinct str/int keys: each group is one call, as groupby would make it, without its frames
        out = run_groups(job, "combiner", num, zip(order, map(iter, map(groups.pop, order))))
    else:
        keyed = sorted(((key if type(key) is bytes else dumps(key)), key) for key in groups)

        def decoded() -> Iterator[tuple]:
            for kb, key in keyed:
                values = groups.pop(key)
                if type(key) is bytes:
                    key = loads(kb)  # a fresh key object per group: the combiner may keep it
                for value in values:
                    yield key, value

        out = job.combine_pairs(decoded(), num)
    if objects:
        yield map(ShufflePairs(codec), out)
    else:
        yield (encode(key) + b"\t" + encode(value) for key, value in out)


_NO_PAIR = object()


def _group_pairs(pairs: Iterable[tuple], dumps: Callable, loads: Callable) -> dict:
    """A map task's pairs grouped by key for its combiner: ``{key: values}``, each group's
    values in record order.

    While every pair has the first pair's value, an exact ``str`` or ``int``
    (a word count's ``1``), and an exact ``str``/``int`` key, each key's
    pairs are only counted and a group is that value repeated: one dict
    store per record, no list per key (a list slot per record and a
    container for the collector to walk: a third of a word count's map
    side). Such values are equal only to themselves, so nothing is lost.
    At the first pair that differs, the counts become lists and
    :func:`_group_lists` goes on from that pair.

    >>> from mapfold.jobs.protocols import JSONProtocol
    >>> codec = JSONProtocol()
    >>> {k: list(v) for k, v in _group_pairs([("a", 1), ("b", 1), ("a", 1)], codec._dumps, codec._loads).items()}
    {'a': [1, 1], 'b': [1]}
    >>> {k: list(v) for k, v in _group_pairs([("a", 1), ("a", True), ("a", 2)], codec._dumps, codec._loads).items()}
    {'a': [1, True, 2]}
    """
    pairs = iter(pairs)
    counts: dict = {}
    get = counts.get
    first = next(pairs, _NO_PAIR)
    if first is _NO_PAIR:
        return counts
    key, value = first
    kind = type(value)
    pending: tuple | None = first
    if (kind is str or kind is int) and (type(key) is str or type(key) is int):
        pending = None
        counts[key] = 1
        for key, item in pairs:
            if item is not value and (type(item) is not kind or item != value) \
                    or type(key) is not str and type(key) is not int:
                pending = (key, item)
                break
            counts[key] = get(key, 0) + 1
        else:
            return dict(zip(counts, map(itertools.repeat, itertools.repeat(value), counts.values())))
    # record order from here on: what was counted (each key's one value) as lists, then the rest
    groups = {key: [value] * times for key, times in counts.items()}
    return _group_lists(groups, itertools.chain((pending,), pairs), dumps, loads)


def _group_lists(groups: dict, pairs: Iterable[tuple], dumps: Callable, loads: Callable) -> dict:
    """``pairs`` appended to ``groups``' lists, one dict lookup per record."""
    # str and int keys and values read back equal from mapfold's codecs, so they
    # are kept as they are (and a str/int key is its own dict key: a str, an
    # int and bytes never compare equal); anything else takes the round trip
    # through its bytes, so a tuple reaches the combiner as a list, as in mrjob
    get = groups.get
    for key, value in pairs:
        if type(value) is not int and type(value) is not str:  # (counts first: the common value)
            value = loads(dumps(value))
        if type(key) is not str and type(key) is not int:
            key = dumps(key)
        bucket = get(key)
        if bucket is None:
            groups[key] = [value]
        else:
            bucket.append(value)
    return groups


class ShufflePairs:
    """A map side's ``(key, value)`` as the shuffle moves it without lines: ``(shuffle key, shuffle value)``.

    A step whose map side and reducer are Python with the same key/value
    codec skips the line in between (mrjob encodes, sorts, decodes). The
    shuffle still groups as the key bytes would: a key is itself when it
    reads back from its bytes as a str or int whose bytes they are (two such
    keys are equal exactly when their bytes are), else the bytes. A value is
    itself when it is an exact str or int (it reads back equal), else its
    bytes, read on the reduce side. So a tuple still reaches the reducer as a
    list, a str subclass as a str, ``True`` apart from ``1``.

    >>> from mapfold.jobs.protocols import JSONProtocol
    >>> pair = ShufflePairs(JSONProtocol())
    >>> pair(("w", 1)), pair(((1, 2), (3,))), pair((True, None))
    (('w', 1), (b'[1, 2]', b'[3]'), (b'true', b'null'))
    """

    __slots__ = ("dumps", "loads")

    def __init__(self, codec: Any) -> None:
        self.dumps, self.loads = codec._dumps, codec._loads

    def __call__(self, pair: tuple) -> tuple:
        key, value = pair
        if type(key) is not str and type(key) is not int:
            data = self.dumps(key)
            back = self.loads(data)
            key = back if (type(back) is str or type(back) is int) and self.dumps(back) == data else data
        if type(value) is not str and type(value) is not int:
            value = self.dumps(value)
        return key, value


def _shuffle_codec(job: Any, num: int, desc: dict, sort_values: bool) -> Any:
    """The codec step ``num``'s map side writes and its reducer reads when the shuffle can skip
    the lines between them (:class:`ShufflePairs`), else ``None``: a Python mapper and reducer
    (no command, no pre-filter), a Python combiner if any, no ``SORT_VALUES`` (it sorts value bytes),
    and one of mapfold's own codecs, the same class, on both sides."""
    if sort_values:
        return None
    for kind in ("mapper", "combiner", "reducer"):
        sub = desc.get(kind)
        if sub is None:
            if kind == "combiner":
                continue
            return None
        if sub["type"] != "script" or sub.get("pre_filter"):
            return None
    write = job.pick_protocols(num, "combiner" if "combiner" in desc else "mapper")[1]
    read = job.pick_protocols(num, "reducer")[0]
    out, back = _codec(write), _codec(read)
    if out is None or back is None or type(out) is not type(back):
        return None
    return out


def object_shuffle(job: Any, num: int, sort_values: bool) -> bool:
    """Whether step ``num`` of ``job`` shuffles :class:`ShufflePairs` instead of lines."""
    return _shuffle_codec(job, num, job._get_step(num).description(num), sort_values) is not None


def _json_plain_order(codec: Any, groups: dict) -> list | None:
    """The keys in the order of their JSON bytes, without encoding them, when every key is a str
    that JSON writes as itself between quotes (printable ASCII, no ``"`` or ``\\``): then
    ``'"' + s + '"'`` compares as ``s + '"'`` does, and as plain ``s`` does when no key holds a
    character below ``"`` (a space or ``!``). ``None`` otherwise (encode and sort).

    >>> from mapfold.jobs.protocols import JSONProtocol
    >>> _json_plain_order(JSONProtocol(), {"ab": 0, "a": 0, "b": 0}), _json_plain_order(JSONProtocol(), {"a": 0, "a!": 0})
    (['a', 'ab', 'b'], ['a!', 'a'])
    >>> _json_plain_order(JSONProtocol(), {"caf\\xe9": 0}) is None, _json_plain_order(JSONProtocol(), {1: 0}) is None
    (True, True)
    """
    if type(codec) not in (JSONProtocol, StandardJSONProtocol) or not groups:
        return None
    if set(map(type, groups)) != {str}:
        return None
    text = "".join(groups)
    # what json.dumps (ensure_ascii) escapes: non-ASCII, control characters and DEL, '"' and '\\'
    if not (text.isascii() and text.isprintable()) or '"' in text or "\\" in text:
        return None
    if " " not in text and "!" not in text:
        return sorted(groups)
    return [key[:-1] for key in sorted(map(operator.add, groups, itertools.repeat('"')))]


def _reads_text(job: Any, read: Callable) -> bool:
    """Whether ``read`` is mapfold's own text-value read (``TextValueProtocol``/``RawValueProtocol``)
    feeding ``MRJob.map_pairs`` unchanged: then a pair is ``(None, the line as text)``."""
    from .job import MRJob

    owner = getattr(read, "__self__", None)
    return (type(owner) in (TextValueProtocol, RawValueProtocol) and read.__func__ is TextValueProtocol.read
            and type(job).map_pairs is MRJob.map_pairs)


def reads_text(job: Any) -> bool:
    """Whether step 0's mapper is plain Python (no command, no pre-filter, not raw) reading its
    input as text (``TextValueProtocol``/``RawValueProtocol``, mrjob's default): then its map
    tasks can take the input's lines already decoded (UTF-8 else latin-1, per line, as mrjob's
    protocol decodes them) instead of bytes.

    >>> from mapfold.jobs import MRJob, JSONProtocol
    >>> class Words(MRJob):
    ...     def mapper(self, _, line):
    ...         yield line, 1
    >>> class Json(Words):
    ...     INPUT_PROTOCOL = JSONProtocol
    >>> reads_text(Words(args=[])), reads_text(Json(args=[]))
    (True, False)
    """
    desc = job._get_step(0).description(0)
    mapper = desc.get("mapper")
    if mapper is None or mapper["type"] != "script" or mapper.get("pre_filter"):
        return False
    if job._python_substep(0, "mapper")["mapper_raw"]:
        return False
    return _reads_text(job, job.pick_protocols(0, "mapper")[0])


def _mapped(job: Any, num: int, read: Callable, lines: Iterable[bytes], text_input: bool = False) -> Iterator[tuple]:
    """``job.map_pairs(pairs, num)`` for a plain Python mapper, as C-level iterators (no frame of
    ours per record): init's output, then each input pair's mapper output, then final's; each
    called when its turn comes, as the generator calls them. A job that overrides ``map_pairs``
    (or a raw mapper), or reads with a protocol not mapfold's own (whose ``read`` might not
    return pairs: the generator's unpacking error is kept), gets ``map_pairs``."""
    from .job import MRJob

    owner = getattr(read, "__self__", None)
    if text_input:  # lines decoded already, as read would decode them (reads_text)
        pairs = zip(itertools.repeat(None), lines)
    elif type(owner) in (TextValueProtocol, RawValueProtocol) and read.__func__ is TextValueProtocol.read:
        pairs = zip(itertools.repeat(None), map(_text, lines))  # read's pairs, one frame less per line
    else:
        pairs = map(read, lines)
    if type(job).map_pairs is not MRJob.map_pairs or type(owner).__module__ != __package__ + ".protocols":
        return job.map_pairs(pairs, num)
    step = job._python_substep(num, "mapper")
    if step["mapper_raw"]:
        return job.map_pairs(pairs, num)
    mapper = step["mapper"]
    if not inspect.isgeneratorfunction(mapper):  # a generator function never returns None: no wrapper frame
        plain = mapper

        def mapper(key: Any, value: Any) -> Iterable:
            return plain(key, value) or ()

    return itertools.chain.from_iterable(itertools.chain(
        (_later(step["mapper_init"]),), itertools.starmap(mapper, pairs), (_later(step["mapper_final"]),)))


def _later(func: Callable | None) -> Iterator:
    if func:
        yield from func() or ()


def run_groups(job: Any, kind: str, num: int, groups: Iterable[tuple]) -> Iterator[tuple]:
    """The combiner or reducer of step ``num`` with its init and final, one call per ``(key, values)`` group.

    ``MRJob.combine_pairs`` regroups a sorted stream; this takes groups the
    shuffle already made (by key bytes), so a group is one call. Driven by
    C-level iterators (no frame of ours per output record); init, each
    group's call and final each run when the stream reaches them.
    """
    return itertools.chain.from_iterable(_group_parts(job, kind, num, groups))


def _group_parts(job: Any, kind: str, num: int, groups: Iterable[tuple]) -> Iterator[Iterable]:
    step = job._get_step(num)
    task, init, final = step[kind], step[f"{kind}_init"], step[f"{kind}_final"]
    if init:
        yield init() or ()

    def call(key: Any, values: Iterable) -> Iterable:
        return task(key, values) or ()

    yield itertools.chain.from_iterable(itertools.starmap(call, groups))
    if final:
        yield final() or ()


def _encoded(write, pairs: Iterable[tuple], distinct_keys: bool = False) -> Iterator[bytes]:
    """``write(key, value)`` of each pair; for mapfold's own codecs, values (and keys, unless a
    reducer's output makes them ``distinct_keys``) through a memo of their bytes."""
    codec = _codec(write)
    if codec is None:
        return (write(k, v) for k, v in pairs)
    value_dumps = _MemoDumps(codec._dumps)
    key_dumps = codec._dumps if distinct_keys else value_dumps
    return (key_dumps(k) + b"\t" + value_dumps(v) for k, v in pairs)


def _task_number() -> int:
    task = current_task()
    return task.partition if task is not None and task.partition is not None else 0


def _counts(job: Any) -> Callable:
    """Counters a command reports on stderr, counted as the job's own."""
    return lambda group, name, amount: job.increment_counter(group, name, amount)


class _Commands:
    """A task's shell commands (``*_cmd``, ``*_pre_filter``), each run with the task's variables."""

    def __init__(self, job: Any, num: int, job_env: JobEnvironment | None, env: dict | None) -> None:
        self.job, self.num, self.job_env, self.env = job, num, job_env, env

    def _env(self) -> dict | None:
        if self.env is None:
            return None
        return self.job_env.switch.command_env(self.env)

    def command(self, kind: str, desc: dict, lines: Iterable[bytes]) -> Iterator[bytes]:
        """``lines`` through the substep's command (``kind_cmd``)."""
        return pipe_lines(command_args(desc["command"]), lines, f"step {self.num} {kind}_cmd", self._env(),
                          _counts(self.job))

    def pre_filter(self, kind: str, desc: dict, lines: Iterable[bytes]) -> Iterator[bytes]:
        """``lines`` through the substep's pre-filter (``kind_pre_filter``), a shell pipeline."""
        return pipe_lines([*SH_BIN, "-c", desc["pre_filter"]], lines, f"step {self.num} {kind}_pre_filter",
                          self._env(), _counts(self.job), pre_filter=True)


def _map_side(job: Any, combiner_job: Any, num: int, desc: dict, lines: Iterable | None, cmds: _Commands,
              pairs: Iterable[tuple] | None = None, objects: bool = False, text_input: bool = False) -> Iterator:
    """One map task's output lines: its mapper (Python with an optional pre-filter, or a command),
    then its combiner (Python, pre-filtered Python, or a command), which has its own copy of the job."""
    out_lines = None
    mapper = desc.get("mapper", {"type": "script"})
    if pairs is None and mapper["type"] == "command":
        out_lines = cmds.command("mapper", mapper, lines)
    elif pairs is None:
        if mapper.get("pre_filter"):
            lines = cmds.pre_filter("mapper", mapper, lines)
        read, _ = job.pick_protocols(num, "mapper")
        pairs = _mapped(job, num, read, lines, text_input)
    combiner = desc.get("combiner")
    if objects:  # Python all along (_shuffle_codec): pairs, no lines
        if combiner is None:
            return map(ShufflePairs(_codec(job.pick_protocols(num, "mapper")[1])), pairs)
        return _combined(combiner_job, num, pairs, objects=True)
    if combiner is None:
        return out_lines if out_lines is not None else _encoded(job.pick_protocols(num, "mapper")[1], pairs)
    read, write = job.pick_protocols(num, "combiner")
    if combiner["type"] == "command" or combiner.get("pre_filter"):
        # a shell command sees what mrjob's local runner gives it: the task's lines sorted by `sort`
        # (whole lines, byte order)
        ordered = sorted(out_lines if out_lines is not None else _encoded(write, pairs))
        if combiner["type"] == "command":
            return cmds.command("combiner", combiner, ordered)
        filtered = cmds.pre_filter("combiner", combiner, ordered)
        return _encoded(write, combiner_job.combine_pairs(map(read, filtered), num))
    if pairs is None:
        pairs = map(read, out_lines)
    return _combined(combiner_job, num, pairs)


class MapTask:
    """One map task of a step: mapper (with init and final), then the combiner if the step has one.

    The combiner runs over the task's own output sorted by key, as in mrjob
    (where one map task's output is sorted before its combiner); that holds
    one task's map output in memory (only counted, while every pair has the
    same str or int value: :func:`_group_pairs`). With a
    :class:`~mapfold.jobs.taskenv.JobEnvironment`, the task's code runs
    with its Hadoop-style variables in ``os.environ``. ``text_input``: the
    lines are text already, decoded as the mapper's protocol would decode
    them (:func:`reads_text`), not bytes.
    """

    def __init__(self, job: Any, step_num: int, job_env: JobEnvironment | None = None,
                 objects: bool = False, text_input: bool = False) -> None:
        self.job, self.step_num, self.job_env, self.objects = job, step_num, job_env, objects
        self.text_input = text_input

    def _env(self, kind: str) -> dict | None:
        return None if self.job_env is None else self.job_env.env(kind, self.step_num, _task_number())

    def _wrapped(self, out: Iterator[bytes], env: dict | None) -> Iterator[bytes]:
        return out if env is None else self.job_env.switch.output(out, env)

    def __call__(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        num = self.step_num
        job = _task_job(self.job, num)
        env = self._env("mapper")
        if env is not None and num > 0:  # fed by an earlier step's reducer, which sets its own variables
            lines = self.job_env.switch.input(lines, env)
        desc = job._get_step(num).description(num)
        cmds = _Commands(job, num, self.job_env, env)
        return self._wrapped(_map_side(job, _task_job(self.job, num), num, desc, lines, cmds,
                                        objects=self.objects, text_input=self.text_input), env)


class RawMapTask(MapTask):
    """The map task of a ``mapper_raw`` step: one input file, ``(path, uri)``, per task."""

    def __call__(self, files: Iterable[tuple]) -> Iterator[bytes]:
        env = self._env("mapper")
        return self._wrapped(self._files(files, env), env)

    def _files(self, files: Iterable[tuple], env: dict | None) -> Iterator[bytes]:
        num = self.step_num
        for path, uri in files:
            job = _task_job(self.job, num)
            desc = job._get_step(num).description(num)
            pairs = job.map_pairs((), num, raw_input=(path, uri))
            cmds = _Commands(job, num, self.job_env, env)
            yield from _map_side(job, _task_job(self.job, num), num, desc, None, cmds, pairs, self.objects)


def key_and_value(line: bytes) -> tuple:
    """``(key bytes, value bytes)`` of an encoded line, ``None`` for a line without a tab: what the shuffle moves.

    >>> key_and_value(b'"k"\\t1'), key_and_value(b"alone")
    ((b'"k"', b'1'), (b'alone', None))
    """
    parts = line.split(b"\t", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], None)


def _line(kb: bytes, vb: bytes | None) -> bytes:
    return kb if vb is None else kb + b"\t" + vb


class ReduceTask:
    """One reduce task of a step over ``(key bytes, value bytes)`` groups.

    The values reach the reducer as a generator over the group, which the
    shuffle streams from disk when the group is larger than the memory
    budget. With ``SORT_VALUES`` a group's lines are sorted whole (key, then
    value bytes, as mrjob's sort does), which holds that group in memory.
    """

    def __init__(self, job: Any, step_num: int, sort_values: bool, job_env: JobEnvironment | None = None,
                 objects: bool = False) -> None:
        self.job, self.step_num, self.sort_values, self.job_env = job, step_num, sort_values, job_env
        self.objects = objects  # groups of ShufflePairs' keys and values, not of bytes

    def __call__(self, groups: Iterable[tuple]) -> Iterator[bytes]:
        num = self.step_num
        job = _task_job(self.job, num)
        env = None if self.job_env is None else self.job_env.env("reducer", num, _task_number())
        reducer = job._get_step(num).description(num)["reducer"]
        if self.objects:
            out = self._objects(job, groups)
        elif reducer["type"] == "command" or reducer.get("pre_filter"):
            out = self._shell(job, reducer, groups, _Commands(job, num, self.job_env, env))
        else:
            out = self._python(job, groups)
        return out if env is None else self.job_env.switch.output(out, env)

    def _group_lines(self, groups: Iterable[tuple]) -> Iterator[bytes]:
        # each key's lines together, as a reduce task's sorted input has them
        for kb, values in groups:
            if self.sort_values:
                values = sorted(values, key=lambda vb: (vb is not None, vb or b""))
            for vb in values:
                yield _line(kb, vb)

    def _shell(self, job: Any, reducer: dict, groups: Iterable[tuple], cmds: _Commands) -> Iterator[bytes]:
        if reducer["type"] == "command":
            return cmds.command("reducer", reducer, self._group_lines(groups))
        read, write = job.pick_protocols(self.step_num, "reducer")
        filtered = cmds.pre_filter("reducer", reducer, self._group_lines(groups))
        return _encoded(write, job.reduce_pairs(map(read, filtered), self.step_num))

    def _objects(self, job: Any, groups: Iterable[tuple]) -> Iterator[bytes]:
        num = self.step_num
        read, write = job.pick_protocols(num, "reducer")
        codec = _codec(read)
        loads = _MemoLoads(codec._loads)

        def value(item: Any) -> Any:
            return loads(item) if type(item) is bytes else item

        def calls() -> Iterator[tuple]:
            # one reducer call per key, as Hadoop groups by key bytes (ShufflePairs keeps that grouping)
            for key, values in groups:
                if type(key) is bytes:
                    key = codec._loads(key)  # a fresh key object per group: the reducer may keep it
                if type(values) is list and bytes not in set(map(type, values)):
                    yield key, iter(values)  # str/int values are what they read back as
                else:
                    yield key, map(value, values)

        return _encoded(write, run_groups(job, "reducer", num, calls()), distinct_keys=True)

    def _python(self, job: Any, groups: Iterable[tuple]) -> Iterator[bytes]:
        num = self.step_num
        read, write = job.pick_protocols(num, "reducer")
        sort_values = self.sort_values
        codec = _codec(read)

        loads = _MemoLoads(codec._loads) if codec is not None else None

        def calls() -> Iterator[tuple]:
            # one reducer call per key's bytes, as Hadoop groups; the values stay a lazy stream
            for kb, values in groups:
                if sort_values:  # same key: whole lines sort as their values, no-tab line first
                    values = sorted(values, key=lambda vb: (vb is not None, vb or b""))
                if codec is None:
                    decoded = map(read, (_line(kb, vb) for vb in values))
                    first = next(decoded, None)
                    if first is None:
                        continue
                    yield first[0], itertools.chain((first[1],), (value for _, value in decoded))
                else:
                    yield codec._loads(kb), map(loads, values)

        return _encoded(write, run_groups(job, "reducer", num, calls()), distinct_keys=True)
