"""The README's main job: `scripts/run-cluster.sh` (what `make run` runs after the release build)
brings up the 3-controller/3-broker cluster of `config/cluster/`, here with its ports moved to free
ones and its data in the session directory. The script reports ready only once every broker serves;
stock tools then work against it (kcat produces, a confluent-kafka group consumes through another
broker, the kafka-python admin CLI describes the quorum with the brokers as observers), and a Ctrl-C to
the script alone stops every node: brokers first (controlled shutdown), then controllers."""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

import brokerproc
import helpers
from conftest import session_dir

pytestmark = pytest.mark.skipif(helpers.KIND != "martlet", reason="Martlet's own cluster script")

REPO = Path(__file__).resolve().parent.parent


def relocated_config(target: Path) -> tuple[Path, list[str]]:
    """config/cluster with every port replaced by a free one and log.dirs under `target`; returns the
    directory and the brokers' host:port list."""
    config = target / "config"
    config.mkdir(parents=True)
    ports: dict[str, str] = {}

    def free(match: re.Match) -> str:
        old = match.group(1)
        ports.setdefault(old, str(brokerproc.free_port()))
        return ":" + ports[old]

    brokers = []
    for source in sorted((REPO / "config" / "cluster").glob("*.properties")):
        text = re.sub(r":(\d{4,5})\b", free, source.read_text())
        text = re.sub(r"^log\.dirs=.*$", f"log.dirs={target / 'data' / source.stem}", text, flags=re.M)
        (config / source.name).write_text(text)
        if source.stem.startswith("broker-"):
            brokers.append(re.search(r"^listeners=PLAINTEXT://(\S+)$", text, re.M).group(1))
    return config, brokers


def test_run_cluster_script_serves_stock_clients_and_stops_on_ctrl_c():
    work = session_dir() / "main-job"
    config, brokers = relocated_config(work)
    env = dict(os.environ, MARTLET_CLUSTER_CONFIG=str(config), MARTLET_CLUSTER_LOGS=str(work / "logs"))
    t0 = time.monotonic()
    # `make test` passes the release binary `make run` uses; a bare conformance run uses the debug one.
    binary = os.environ.get("MARTLET_MAIN_BIN") or str(brokerproc.martlet_bin())
    script = subprocess.Popen(["bash", str(REPO / "scripts" / "run-cluster.sh"), binary],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in script.stdout:
            lines.append(line)
            if "are up" in line or "did not" in line or "exited" in line:
                break
            assert time.monotonic() - t0 < 90, "".join(lines)
        assert "3 controllers and 3 brokers" in "".join(lines), "".join(lines)
        print(f"main job ready after {time.monotonic() - t0:.2f} s")

        assert len(brokers) == 3
        topic = helpers.topic_name("mainjob")
        records = helpers.make_records(300, "mainjob", 3, text_only=True)
        helpers.ck_create_topic(brokers[0], topic, partitions=3)
        helpers.kc_produce(brokers[1], topic, records)
        got = helpers.ck_consume(brokers[2], topic, 3, 300, timeout=60)
        helpers.verify_roundtrip(records, got, check_ts=False, expect_headers=helpers.KCAT_HEADERS)

        quorum = subprocess.run(["kafka-python", "admin", "-b", brokers[0], "cluster", "describe-quorum"],
                                capture_output=True, text=True, timeout=60)
        assert quorum.returncode == 0, quorum.stderr
        for node in (1, 2, 3, 4, 5, 6):
            assert f"'replica_id': {node}" in quorum.stdout, quorum.stdout

        stopping = time.monotonic()
        script.send_signal(signal.SIGINT)
        rest = script.communicate(timeout=60)[0]
        assert script.returncode == 0, rest
        assert "stopped" in rest, rest
        print(f"main job stopped {time.monotonic() - stopping:.2f} s after Ctrl-C")
        left = subprocess.run(["pgrep", "-f", str(config)], capture_output=True, text=True)
        assert left.stdout.strip() == "", f"nodes still running: {left.stdout}"
        for log in (work / "logs").glob("broker-*.log"):
            assert "the controller agreed to the controlled shutdown" in log.read_text(), log
    finally:
        if script.poll() is None:
            script.kill()
        subprocess.run(["pkill", "-9", "-f", str(config)], capture_output=True)
