"""Settings from one place: environment variables, optionally a TOML file, frozen after start-up.

Every name is read as ``HOTLINE_<NAME>`` from the environment first, then as ``<name>`` from the
TOML file named by ``HOTLINE_CONFIG`` (default ``<data dir>/hotline.toml`` when it exists).
All runtime data (database, recordings, built prompts, logs, the ID-hash key) lives under
``data_dir`` (``HOTLINE_DATA_DIR``, default ``var``), a folder only its owner may enter (0700);
the ``hotline`` command creates every file with ``PRIVATE_UMASK`` (0600, folders 0700).
"""

from __future__ import annotations

import os
import secrets
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

# A process missing this many heartbeats in a row is dead: its calls are closed, the console
# stops listing them. More than one, so a single slow beat (a busy database) is not a death.
STALE_AFTER_BEATS = 3
# What the hotline writes (database and its WAL, recordings, prompts, logs, keys) is its owner's
# alone: recordings and call records are personal data. The ``hotline`` command sets this umask
# for itself and its children (the local Asterisk, ffmpeg); the data folder is tightened to 0700.
PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    db_url: str = ""
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "hotline"
    ami_secret: str = "hotline-ami-secret"
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    # Each node's /metrics, /healthz and /readyz (``ivr.ops``); an empty host: no such server.
    ops_host: str = "127.0.0.1"
    ops_port: int = 9105
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    sip_password: str = "hotline-sip-secret"
    # Domain policy, as configured by the bureau.
    password_max_failures: int = 3
    password_lock_hours: int = 24
    # The bounded pool that verifies query passwords (argon2id, ``ivr.domain.verifier``): its
    # threads (0: one per core this process may run on), and how many verifications may already
    # be waiting for a thread before a caller hears the hold prompt (0: twice the threads).
    password_threads: int = 0
    password_hold_after: int = 0
    provisional_lapse_days: int = 10
    reissue_working_days: int = 15
    # The service point printed on the pick-up certificate (where the new card is collected).
    service_point: str = "社会保险经办服务大厅"
    # Where Asterisk writes recordings, as Asterisk sees it (differs in a chroot or container).
    asterisk_recordings_dir: str = ""
    # The local Asterisk's root file system; empty: <data dir>/asterisk/rootfs. Several data
    # folders can share one (each Asterisk mounts its own configuration and state over it).
    asterisk_rootfs: str = ""
    # The key of the ID-number HMAC; empty: a key generated once and kept in the data folder.
    id_hash_key: str = ""
    log_level: str = "INFO"
    # The end-to-end load run (bench/e2e_load.py): Asterisk's full.log also takes each key pressed
    # (its dtmf level) beside the prompts played, to time key-to-next-prompt. It then holds what
    # callers keyed (IDs, passwords): never on a node taking real calls.
    asterisk_key_log: bool = False
    # This process in the ``runs`` table (empty: the host name), and how often it says it is
    # alive there.
    node_name: str = ""
    heartbeat_seconds: int = 5
    # Retention (``ivr.domain.retention``): days a recording and a call's path are kept, 0 for
    # ever; a recording is also kept while its loss report is open or its voice message waits
    # for a call-back. Deleted by a daily job at this local (Beijing) hour, or `hotline db prune`.
    recording_retention_days: int = 180
    call_path_retention_days: int = 730
    prune_hour: int = 3
    # Days a caller's language choice is remembered (by a keyed hash of the calling number) after
    # it was last used; 0: choices are not remembered at all.
    language_memory_days: int = 365
    # The FastAGI server's bounds. A reply may take the time-out its command waits for (a key, a
    # recording) plus this allowance, which must outlast the longest prompt (the Spanish
    # lost-card policy, about 35 s): past it Asterisk is out of step, the call ends as
    # interrupted and the dialplan's fallback takes the caller on.
    agi_reply_seconds: float = 60.0
    # Connections at once, beyond which one is refused (the dialplan's fallback answers it): the
    # 500 concurrent calls the load benchmark holds within its latency target.
    agi_max_connections: int = 500
    # The most calls this node's Asterisk takes at once (the dialplan counts them with GROUP()).
    # Beyond it a caller hears "all lines are busy, please call again later" before the call is
    # answered, and the call is recorded as refused. 0: 60 per core of the machine that renders
    # Asterisk's configuration: the end-to-end load run held 145 calls at once on 2 cores with
    # none cut, and Asterisk saturated near 216 (183 of 266 calls cut), so 60 a core keeps a
    # margin below the highest load held.
    max_calls: int = 0
    # Several nodes (``hotline cluster``). The SIP proxy in front ("host:port", Kamailio): phones
    # register there, Asterisk trusts calls from it and reaches the agents through it. The other
    # nodes' FastAGI servers ("host:port,host:port"): Asterisk hands a call to them in turn when
    # its own does not take it.
    sip_proxy: str = ""
    agi_peers: str = ""

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def prompts_dir(self) -> Path:
        """Built sound files, laid out as Asterisk's ``sounds/<lang>/hotline/<key>``."""
        return self.data_dir / "sounds"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    def recording_playback_copy(self, recording_id: int) -> Path:
        """Where the console caches a browser-playable copy of a recording (deleted with it)."""
        return self.data_dir / "web-cache" / f"recording-{recording_id}.wav"

    def make_data_dir(self) -> Path:
        """The data folder, created or tightened to 0700. Blocking: call it from a worker thread
        in async code."""
        return private_dir(self.data_dir)

    @property
    def holiday_schedule_file(self) -> Path:
        """The operator's State Council holiday schedule (optional): years it has replace those
        shipped in ``data/official-holidays.yaml``."""
        return self.data_dir / "official-holidays.yaml"

    @property
    def node(self) -> str:
        return self.node_name or socket.gethostname()

    @property
    def heartbeat_interval(self) -> timedelta:
        return timedelta(seconds=self.heartbeat_seconds)

    @property
    def heartbeat_stale_after(self) -> timedelta:
        """Silence after which a process counts as dead (by every node: one rule)."""
        return STALE_AFTER_BEATS * self.heartbeat_interval

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite+aiosqlite:///{(self.data_dir / 'hotline.db').resolve()}"

    def hash_key(self) -> bytes:
        """The ID-number HMAC key: ``HOTLINE_ID_HASH_KEY``, or one generated once per data folder.

        Changing it makes every stored ID hash unmatchable, so it is kept beside the database.
        """
        if self.id_hash_key:
            return self.id_hash_key.encode()
        key_file = self.data_dir / "id-hash.key"
        if not key_file.exists():
            self.make_data_dir()
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
        return key_file.read_text().strip().encode()

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(overrides.get("data_dir") or env.get("HOTLINE_DATA_DIR", "var"))
        config_path = env.get("HOTLINE_CONFIG")
        file_values: dict[str, Any] = {}
        candidate = Path(config_path) if config_path else data_dir / "hotline.toml"
        if candidate.exists():
            file_values = tomllib.loads(candidate.read_text())
        elif config_path:
            raise FileNotFoundError(f"HOTLINE_CONFIG names {config_path}, which does not exist")
        values: dict[str, Any] = {}
        for field in fields(cls):
            name = field.name
            raw: Any = env.get(f"HOTLINE_{name.upper()}", file_values.get(name))
            if raw is None:
                continue
            default = field.default
            if isinstance(default, bool):
                values[name] = str(raw).lower() in {"1", "true", "yes"}
            elif isinstance(default, int):
                values[name] = int(raw)
            elif isinstance(default, float):
                values[name] = float(raw)
            elif isinstance(default, Path):
                values[name] = Path(raw)
            else:
                values[name] = str(raw)
        values["data_dir"] = data_dir
        values.update(overrides)
        return cls(**values)


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner may enter: created 0700, or group and others' rights
    taken away. The parents are created as the umask says (they are not the hotline's to close).
    """
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & ~PRIVATE_DIR_MODE:
        path.chmod(mode & PRIVATE_DIR_MODE)
    return path
