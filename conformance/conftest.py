"""Fixtures: the broker under test as a real process.

  broker        session-scoped, started once (default settings)
  fresh_broker  function-scoped, its own port and data dir; settings from
                @pytest.mark.broker_overrides({...}); for kill/restart/pause tests

MARTLET_BROKER=martlet|tansu picks the broker (see brokerproc.py). On a failure the broker's
log path and its last lines are added to the report.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import brokerproc  # noqa: E402
import helpers  # noqa: E402

_SESSION_DIR: Path | None = None
_BROKERS: list[brokerproc.BrokerProcess] = []
BROKER_FIXTURES = ("fresh_broker", "broker", "small_broker", "bad_broker")


def session_dir() -> Path:
    global _SESSION_DIR
    if _SESSION_DIR is None:
        base = os.environ.get("MARTLET_CONFORMANCE_DIR")
        if base:
            Path(base).mkdir(parents=True, exist_ok=True)
        _SESSION_DIR = Path(tempfile.mkdtemp(prefix="martlet-conformance.", dir=base or None))
    return _SESSION_DIR


def _new_broker(name: str, overrides: dict | None = None) -> brokerproc.BrokerProcess:
    d = session_dir() / f"{len(_BROKERS):02d}-{name}"
    b = brokerproc.BrokerProcess(helpers.KIND, d, overrides=overrides, name=name)
    _BROKERS.append(b)
    return b


def pytest_configure(config):
    config.addinivalue_line("markers", "broker_overrides(dict): broker settings for fresh_broker")
    config.addinivalue_line("markers", "slow: long-running (100k records, restarts)")


def pytest_report_header(config):
    kind = helpers.KIND
    if kind == "martlet":
        where = brokerproc.martlet_bin()
    else:
        try:
            where = brokerproc.tansu_bin()
        except RuntimeError as e:
            where = e
    return [f"broker under test: {kind} ({where}); work dir {session_dir()}"]


@pytest.fixture(scope="session")
def broker():
    b = _new_broker("session")
    b.start()
    helpers.RESULTS["session broker start-to-ready s"] = round(b.ready_seconds, 3)
    yield b
    rc = b.stop()
    helpers.RESULTS["session broker exit code after SIGTERM"] = rc


@pytest.fixture(scope="session")
def broker_factory():
    """make(name, overrides) -> a started broker of its own; stopped at the end of the session
    (or earlier by the caller)."""
    def make(name: str, overrides: dict | None = None) -> brokerproc.BrokerProcess:
        return _new_broker(name, overrides).start()
    return make


@pytest.fixture
def fresh_broker(request):
    m = request.node.get_closest_marker("broker_overrides")
    overrides = dict(m.args[0]) if m else {}
    b = _new_broker(request.node.name[:60].replace("/", "_"), overrides)
    b.start()
    yield b
    b.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and call.when in ("setup", "call", "teardown"):
        for name in BROKER_FIXTURES:
            b = item.funcargs.get(name) if hasattr(item, "funcargs") else None
            if isinstance(b, brokerproc.BrokerProcess):
                rep.sections.append((f"{name} log {b.log_path}",
                                     f"alive={b.alive()} pid={b.pid}\n{b.log_tail(40)}"))
        # Fixtures made of several processes (clusterproc.Cluster) name their own logs.
        for name, value in (item.funcargs.items() if hasattr(item, "funcargs") else ()):
            if callable(getattr(value, "log_sections", None)):
                rep.sections.extend(value.log_sections())
        if not any(isinstance(item.funcargs.get(n), brokerproc.BrokerProcess)
                   for n in BROKER_FIXTURES) and _BROKERS:
            rep.sections.append(("broker logs", "\n".join(str(b.log_path) for b in _BROKERS)))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tr = terminalreporter
    if helpers.RESULTS:
        tr.section("conformance measurements")
        for k, v in helpers.RESULTS.items():
            tr.write_line(f"{k}: {v}")
    if _BROKERS:
        tr.section("broker logs")
        for b in _BROKERS:
            tr.write_line(f"{b.name}: {b.log_path}")
    if _SESSION_DIR is not None:
        tr.write_line(f"work dir: {_SESSION_DIR}")


def pytest_sessionfinish(session, exitstatus):
    for b in _BROKERS:
        try:
            b.stop(grace=5)
        except Exception:
            pass
    # Data dirs can hold hundreds of MB: drop them when everything passed, keep the logs.
    if exitstatus == 0 and _SESSION_DIR is not None and not os.environ.get("MARTLET_KEEP"):
        for b in _BROKERS:
            brokerproc.remove_tree(b.data_dir)
