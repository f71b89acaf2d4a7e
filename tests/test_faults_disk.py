"""Faults of the disk, injected for real: a full disk (a small tmpfs, or RLIMIT_FSIZE on the
child), a read-only home (a read-only bind mount, or root without its override of file
permissions), and damaged pages in the middle of the log. Nothing already logged is lost,
nothing shows a traceback, and every message is true.

The tests run as root (so does CI): root ignores file permissions, so "read-only" is made
either by the kernel (a `ro` bind mount: EROFS even for root) or by dropping the
capabilities that let root ignore them (setpriv --bounding-set=-dac_override,...).
"""

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

QUESTIONS = [f"question {i}: how do I rebase a branch onto main?" for i in range(3)]
LONG = " ".join(f"word{i}" for i in range(300))


def learnflow(args, *, home, env_extra=None, preexec=None, prefix=(), timeout=60, **kw):
    """One learnflow process, as a user runs it, in `home`."""
    env = {**os.environ, "LEARNFLOW_HOME": str(home), **(env_extra or {})}
    cmd = [*prefix, sys.executable, "-m", "learnflow", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=preexec, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)  # fmt: skip


def seed(home, questions=QUESTIONS):
    for q in questions:
        done = learnflow(["ask", q], home=home)
        assert done.returncode == 0, done.stderr


def logged(home) -> list[tuple]:
    conn = sqlite3.connect(home / "learnflow.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT id, question, answer, status FROM interactions ORDER BY id").fetchall()
    finally:
        conn.close()


def no_traceback(proc):
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]


# -- a full disk --------------------------------------------------------------------------------


def _file_size_limit(limit: int):
    """preexec_fn: this child may not grow any file beyond `limit` bytes (EFBIG, as a quota would)."""

    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the child at the limit
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


def _mount(*args) -> str | None:
    """Run mount; None when it worked, else why not (a container without the privilege)."""
    if shutil.which("mount") is None:
        return "no mount command"
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    return None if done.returncode == 0 else (done.stderr.strip() or f"mount exited {done.returncode}")


class FullDisk:
    """A learnflow home on a disk that can be filled: `fill()` makes it full, `free()` gives the
    space back. `tmpfs`: a 4 MB tmpfs filled with a file (ENOSPC, SQLITE_FULL). `rlimit`: the
    children get RLIMIT_FSIZE (EFBIG: SQLite reports an I/O error), the way a quota behaves."""

    def __init__(self, mode: str, root: Path):
        self.mode = mode
        self.root = root
        self.full = False
        if mode == "tmpfs":
            root.mkdir()
            why = _mount("-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(root))
            if why:
                pytest.skip(f"mount -t tmpfs is not permitted here ({why}); the rlimit variant injects the fault")
        self.home = root / "home"

    @property
    def preexec(self):
        return _file_size_limit(0) if self.full and self.mode == "rlimit" else None

    def run(self, args, **kw):
        return learnflow(args, home=self.home, preexec=self.preexec, **kw)

    def fill(self, pid: int | None = None):
        """Make the disk full now; with `pid`, for that running process too."""
        self.full = True
        if self.mode == "tmpfs":
            with open(self.root / "filler", "wb", buffering=0) as fh:
                for size in (65536, 4096, 512, 1):  # down to the last byte
                    try:
                        while True:
                            fh.write(b"\0" * size)
                    except OSError:
                        pass
            assert shutil.disk_usage(self.root).free < 4096
        elif pid is not None:
            wal = self.home / "learnflow.db-wal"
            limit = wal.stat().st_size  # the WAL may not grow by one more frame
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, limit))

    def free(self):
        self.full = False
        (self.root / "filler").unlink(missing_ok=True)

    def close(self):
        if self.mode == "tmpfs":
            subprocess.run(["umount", "-l", str(self.root)], capture_output=True)


@pytest.fixture(params=["tmpfs", "rlimit"])
def disk(request, tmp_path):
    d = FullDisk(request.param, tmp_path / "disk")
    yield d
    d.close()


def test_reading_commands_work_on_a_full_disk(disk):
    seed(disk.home)
    disk.fill()
    history = disk.run(["history", "--json"])
    no_traceback(history)
    assert history.returncode == 0, history.stderr
    assert [r["question"] for r in json.loads(history.stdout)] == QUESTIONS[::-1]
    for args in (["gaps"], ["gaps", "--json"], ["export"], ["export", "--format", "csv"], ["show", "1"]):
        done = disk.run(args)
        no_traceback(done)
        assert done.returncode == 0, (args, done.stderr)
        assert "damaged" not in done.stderr
    exported = json.loads(disk.run(["export"]).stdout)
    assert sum(s["verb"]["display"]["en"] == "asked" for s in exported) == len(QUESTIONS)


def test_ask_on_a_full_disk_says_the_disk_is_full_and_writes_nothing(disk):
    seed(disk.home)
    before = logged(disk.home)
    disk.fill()
    done = disk.run(["ask", "one more question about docker"])
    no_traceback(done)
    assert done.returncode == 7
    assert "damaged" not in done.stderr and "written" in done.stderr
    assert ("disk is full" if disk.mode == "tmpfs" else "input/output error") in done.stderr
    disk.free()
    assert logged(disk.home) == before


@pytest.mark.parametrize("args", [["config", "set", "retries", "3"], ["keys", "set", "openai", "--value", "sk-test-abcdef123456"]],
                         ids=["config-set", "keys-set"])  # fmt: skip
def test_settings_on_a_full_disk_are_a_clear_error_and_leave_no_temporary_file(disk, args):
    seed(disk.home, QUESTIONS[:1])
    assert learnflow(["config", "set", "retries", "1"], home=disk.home).returncode == 0
    config = (disk.home / "config.toml").read_text()
    disk.fill()
    done = disk.run(args)
    no_traceback(done)
    assert done.returncode == 4, done.stderr
    assert "Cannot write" in done.stderr and "disk space" in done.stderr
    disk.free()
    assert not [p.name for p in disk.home.rglob("*.tmp")]
    assert (disk.home / "config.toml").read_text() == config  # the old settings, whole
    assert not (disk.home / "keys.toml").exists()


def test_a_disk_that_fills_during_an_answer_says_the_answer_was_not_saved_and_loses_nothing(disk, server):
    server.rule("Classify", {"content": '{"skills": ["git"]}'})
    env = {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "sk-faults", "LEARNFLOW_MODEL": "openai/m"}
    server.set_default({"content": "an earlier answer about rebase"})
    for q in QUESTIONS:
        assert learnflow(["ask", q], home=disk.home, env_extra=env).returncode == 0
    before = logged(disk.home)
    server.set_default({"content": LONG, "chunk_delay": 0.02})
    proc = subprocess.Popen([sys.executable, "-m", "learnflow", "ask", "what does git reflog show?"],
                            env={**os.environ, "LEARNFLOW_HOME": str(disk.home), **env}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_file_size_limit(resource.RLIM_INFINITY))  # fmt: skip
    out = b""
    while b"word" not in out:
        chunk = os.read(proc.stdout.fileno(), 64)
        assert chunk, "no answer text arrived"
        out += chunk
    disk.fill(pid=proc.pid)
    rest, err = proc.communicate(timeout=60)
    out, err = (out + rest).decode(), err.decode()
    assert "Traceback" not in err, err
    assert f"word{299}" in out  # the person got the whole answer
    assert proc.returncode == 7, err
    assert "status ok" not in err  # the old, untrue message
    assert "could not be saved" in err and f"#{len(QUESTIONS) + 1} with its question only" in err
    disk.free()
    after = logged(disk.home)
    assert after[: len(before)] == before  # nothing logged before was lost
    assert after[len(before) :] == [(len(QUESTIONS) + 1, "what does git reflog show?", None, "pending")]


# -- a read-only home -------------------------------------------------------------------------


class ReadOnlyHome:
    """A seeded home that the children cannot write. `mount`: a read-only bind mount (the kernel
    says EROFS, even to root). `caps`: the folder and files 0555/0444 and the children run as
    root without CAP_DAC_OVERRIDE (the permissions apply to them as to any user)."""

    def __init__(self, mode: str, root: Path):
        self.mode = mode
        self.source = root / "home"
        self.prefix: tuple[str, ...] = ()
        seed(self.source)
        if mode == "mount":
            self.home = root / "ro"
            self.home.mkdir()
            why = _mount("--bind", str(self.source), str(self.home))
            if why is None:
                why = _mount("-o", "remount,bind,ro", str(self.home))
                if why:
                    subprocess.run(["umount", str(self.home)])
            if why:
                pytest.skip(f"a read-only bind mount is not permitted here ({why}); the caps variant covers it")
        else:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("setpriv (util-linux) is not installed; the mount variant covers it")
            self.home = self.source
            for p in self.home.rglob("*"):
                p.chmod(0o555 if p.is_dir() else 0o444)
            self.home.chmod(0o555)
            self.prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner")
        self.files = sorted((p.name, p.read_bytes()) for p in self.source.iterdir() if p.is_file())

    def run(self, args, **kw):
        return learnflow(args, home=self.home, prefix=self.prefix, **kw)

    def untouched(self) -> bool:
        return sorted((p.name, p.read_bytes()) for p in self.source.iterdir() if p.is_file()) == self.files

    def close(self):
        if self.mode == "mount":
            subprocess.run(["umount", "-l", str(self.home)], capture_output=True)
        else:
            for p in [self.source, *self.source.rglob("*")]:
                p.chmod(0o700)


@pytest.fixture(params=["mount", "caps"])
def read_only_home(request, tmp_path):
    h = ReadOnlyHome(request.param, tmp_path)
    yield h
    h.close()


def test_the_home_really_is_read_only_for_the_children(read_only_home):
    probe = subprocess.run([*read_only_home.prefix, "touch", str(read_only_home.home / "probe")], capture_output=True, text=True)
    assert probe.returncode != 0, "the fault was not injected: the child could write"


@pytest.mark.parametrize("code", [0, 3])
def test_run_keeps_the_wrapped_commands_exit_code_when_the_log_is_read_only(read_only_home, code):
    done = read_only_home.run(["run", "--no-offer", "--", "sh", "-c", f"echo out; exit {code}"])
    no_traceback(done)
    assert done.returncode == code
    assert done.stdout == "out\n"
    warning = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(warning) == 1 and "not logged" in warning[0] and "read-only" in warning[0]
    assert read_only_home.untouched()


def test_reading_commands_work_in_a_read_only_home(read_only_home):
    history = read_only_home.run(["history", "--json"])
    no_traceback(history)
    assert history.returncode == 0, history.stderr
    assert [r["question"] for r in json.loads(history.stdout)] == QUESTIONS[::-1]
    for args in (["gaps"], ["export"], ["show", "2"]):
        done = read_only_home.run(args)
        no_traceback(done)
        assert done.returncode == 0, (args, done.stderr)
        assert "damaged" not in done.stderr
    exported = read_only_home.run(["export"])
    assert "not kept" in exported.stderr  # the xAPI namespace made for this export only: said so
    ask = read_only_home.run(["ask", "and now?"])
    assert ask.returncode == 7 and "read-only" in ask.stderr and "Nothing was written" in ask.stderr
    assert read_only_home.untouched()


def test_a_read_only_home_with_a_live_wal_shows_the_rows_still_in_it(tmp_path):
    """A writer that died left its WAL (and its index): a read-only reader still sees those rows."""
    home = tmp_path / "home"
    seed(home, QUESTIONS[:1])
    script = (
        "import os; from learnflow.db.store import Store\n"
        "s = Store(); s.conn.execute('PRAGMA wal_autocheckpoint=0')\n"
        "s.begin_interaction(question='only in the wal', conversation_id=None)\n"
        "os._exit(0)\n"  # no close: the WAL keeps the row
    )
    subprocess.run([sys.executable, "-c", script], env={**os.environ, "LEARNFLOW_HOME": str(home)}, check=True)
    assert (home / "learnflow.db-wal").stat().st_size > 0
    for p in [home, *home.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        done = learnflow(["history", "--json"], home=home, prefix=(shutil.which("setpriv") or "setpriv",
                                                                   "--bounding-set=-dac_override,-dac_read_search,-fowner"))  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert [r["question"] for r in json.loads(done.stdout)][0] == "only in the wal"
    finally:
        for p in [home, *home.rglob("*")]:
            p.chmod(0o700)


# -- damaged pages in the middle of the log ------------------------------------------------------

ROWS = 200


def _build_log(home: Path) -> None:
    """200 interactions with their skills, the way asks leave them (faster than 200 asks)."""
    from learnflow.db.store import SkillTag, Store

    s = Store(home / "learnflow.db")
    cid = s.new_conversation("rebase practice")
    for i in range(1, ROWS + 1):
        rid = s.begin_interaction(conversation_id=cid, question=f"question {i:03d}: " + "how do I rebase? " * 8, pid=0)
        s.finish_interaction(rid, answer="Use git rebase -i. " * 10, status="ok")
        s.set_skills(rid, [SkillTag("git", 0.9, "offline")])
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()


def _damage_a_middle_page(db: Path) -> int:
    """Overwrite one leaf page of `interactions` from the middle of the table; its page number."""
    conn = sqlite3.connect(db)
    try:
        leaves = [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'interactions' AND pagetype = 'leaf' ORDER BY pageno")]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.OperationalError:
        pytest.skip("this SQLite was built without the dbstat table")
    finally:
        conn.close()
    assert len(leaves) > 10
    page = leaves[len(leaves) // 2]
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(bytes([0x0D]) + b"\xa5" * (size - 1))  # a leaf header whose cell pointers point nowhere
    return page


def _readable_by_rowid(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    readable = 0
    for rowid in range(1, ROWS + 1):
        try:
            readable += conn.execute("SELECT count(*) FROM interactions WHERE rowid = ?", [rowid]).fetchone()[0]
        except sqlite3.DatabaseError:
            pass
    conn.close()
    return readable


@pytest.fixture
def damaged(home):
    _build_log(home)
    db = home / "learnflow.db"
    _damage_a_middle_page(db)
    return db


@pytest.mark.parametrize("args", [["ask", "what is a detached HEAD?"], ["history", "-n", "1000"], ["gaps"], ["export"],
                                  ["history", "-q", "rebase"]])  # fmt: skip
def test_a_damaged_log_is_a_clear_error_pointing_at_doctor_and_ask_writes_nothing(damaged, args):
    before = damaged.read_bytes()
    done = learnflow(args, home=damaged.parent)
    no_traceback(done)
    assert done.returncode == 7, (done.returncode, done.stderr)
    assert "damaged" in done.stderr and "learnflow doctor" in done.stderr
    if args[0] == "ask":  # the ask stops before its first write
        assert damaged.read_bytes() == before
        wal = damaged.with_name("learnflow.db-wal")
        assert not wal.exists() or wal.stat().st_size == 0  # nothing committed to the damaged file either


def test_doctor_repair_keeps_every_row_readable_by_rowid(damaged, cli):
    readable = _readable_by_rowid(damaged)
    assert 150 < readable < ROWS  # the damage is real, and in the middle
    report = cli("doctor")
    assert report.exit_code == 7 and "--repair" in report.stdout
    repaired = learnflow(["doctor", "--repair"], home=damaged.parent)
    no_traceback(repaired)  # the old repair failed here with sqlite3.IntegrityError: FOREIGN KEY
    assert "kept as" in repaired.stderr
    conn = sqlite3.connect(damaged)
    kept = conn.execute("SELECT count(*) FROM interactions").fetchone()[0]
    assert kept >= readable
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # Skill tags of the rows that were lost are gone, not waiting for a new row to reuse the id.
    tags = conn.execute(
        "SELECT count(*), count(interaction_id IN (SELECT id FROM interactions) OR NULL) FROM interaction_skills"
    ).fetchone()
    assert tags == (kept, kept)  # one tag per kept row, none left over (or NULL) from the lost rows
    assert conn.execute("SELECT count(*) FROM interactions_fts WHERE interactions_fts MATCH 'rebase'").fetchone()[0] == kept
    conn.close()
    assert cli("ask", "works again?").exit_code == 0
    assert cli("history", "-n", "1000").exit_code == 0


def test_salvage_reads_past_several_damaged_pages(home):
    from learnflow.db import admin

    _build_log(home)
    db = home / "learnflow.db"
    conn = sqlite3.connect(db)
    leaves = [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'interactions' AND pagetype = 'leaf' ORDER BY pageno")]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:
        for page in (leaves[0], leaves[len(leaves) // 3], leaves[2 * len(leaves) // 3], leaves[-1]):
            fh.seek((page - 1) * size)
            fh.write(b"\0" * size)
    readable = _readable_by_rowid(db)
    rows = admin.readable_rows(db)["interactions"]
    assert len(rows) >= readable > 0
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)


def test_a_full_disk_during_repair_leaves_the_log_as_it_was(disk):
    seed(disk.home, QUESTIONS[:2])
    before = (disk.home / "learnflow.db").read_bytes()
    if disk.mode == "tmpfs":
        disk.fill()
    else:  # the copy of the log aside is the first thing that needs space
        disk.full = True
    done = disk.run(["doctor", "--repair"])
    no_traceback(done)
    assert done.returncode == 7, done.stderr
    assert "disk space" in done.stderr
    disk.free()
    assert (disk.home / "learnflow.db").read_bytes() == before
    assert sorted(p.name for p in disk.home.iterdir() if p.name.startswith("learnflow.db.")) == []  # no half copy left
