"""The Asterisk configuration rendered from the settings, and the path mapping of recordings."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path, PurePosixPath

import pytest

from ivr.ami.admission import SHED_UNTIL
from ivr.ami.subscription import EVENTS
from ivr.config import Settings
from ivr.telephony import (
    ConfigError,
    DialplanOptions,
    asterisk_path_of_recording,
    dialplan,
    host_path_of_recording,
    recordings_dir_in_asterisk,
    render_config,
    write_config,
)
from ivr.telephony.__main__ import main as telephony_main

SETTINGS = Settings(
    data_dir=Path("/srv/hotline-data"),
    agi_host="127.0.0.9",
    agi_port=14573,
    ami_host="127.0.0.8",
    ami_port=15038,
    ami_user="bridge",
    ami_secret="ami-s3cret-xyz",
    sip_host="127.0.0.7",
    sip_port=15060,
    sip_password="sip-s3cret-xyz",
)


def test_every_host_port_and_secret_comes_from_the_settings() -> None:
    files = render_config(SETTINGS)
    assert "HOTLINE_AGI = agi://127.0.0.9:14573" in files["extensions.conf"]
    assert "bindaddr = 127.0.0.8" in files["manager.conf"]
    assert "port = 15038" in files["manager.conf"]
    assert "[bridge]" in files["manager.conf"]
    assert "bind = 127.0.0.7:15060" in files["pjsip.conf"]
    assert "media_address = 127.0.0.7" in files["pjsip.conf"]
    assert "HOTLINE_RECORDINGS = /var/spool/hotline/recordings" in files["extensions.conf"]
    assert "astetcdir => /etc/hotline-asterisk" in files["asterisk.conf"]


def test_secrets_appear_only_where_they_are_needed() -> None:
    files = render_config(SETTINGS)
    holders = {name for name, text in files.items() if "ami-s3cret-xyz" in text}
    assert holders == {"manager.conf"}
    holders = {name for name, text in files.items() if "sip-s3cret-xyz" in text}
    assert holders == {"pjsip.conf"}
    assert files["pjsip.conf"].count("sip-s3cret-xyz") == 1  # one auth template for all phones


def test_both_hotlines_and_all_phones_are_configured() -> None:
    files = render_config(SETTINGS)
    for number in ("12333", "96102"):
        assert f"exten => {number},1,Set(__HOTLINE={number})" in files["extensions.conf"]
    for number in ("6001", "6002", "6003", "7001", "7002"):
        assert f"[{number}](phone)" in files["pjsip.conf"]
    for number in ("7001", "7002"):
        assert f"member => PJSIP/{number}," in files["queues.conf"]
    assert "dtmf_mode = rfc4733" in files["pjsip.conf"]
    assert "allow = ulaw,alaw,g722" in files["pjsip.conf"]


def test_ami_user_is_limited_to_loopback_and_the_bridge_rights() -> None:
    manager = render_config(SETTINGS)["manager.conf"]
    assert "deny = 0.0.0.0/0.0.0.0" in manager
    assert "permit = 127.0.0.1/255.255.255.255" in manager
    assert "read = call,agent,agi,dialplan" in manager
    assert "write = originate,call,reporting" in manager
    for dangerous in ("system", "command", "config"):
        assert dangerous not in manager.split("write = ")[1]


def test_the_ami_user_gets_only_the_events_the_hotline_reads() -> None:
    manager = render_config(SETTINGS)["manager.conf"]
    filters = [line for line in manager.splitlines() if line.startswith("eventfilter(")]
    named = {line.split("name(")[1].split(")")[0] for line in filters}
    assert named == EVENTS  # every event the reducer and scripted calls read, nothing else
    assert all(line.startswith("eventfilter(action(include),") for line in filters)
    (varset,) = [line for line in filters if "name(VarSet)" in line]
    assert "header(Variable),method(regex)) = ^_*(HOTLINE|AGISTATUS)" in varset


def test_container_options_change_only_what_they_name() -> None:
    options = DialplanOptions(
        ami_bind="0.0.0.0",
        ami_permit=("172.30.233.0/255.255.255.0",),
        external_address="192.0.2.10",
        local_net="172.30.233.0/24",
        agent_hours="09:00-17:00",
        agent_days="mon-sat",
    )
    files = render_config(SETTINGS, options)
    assert "bindaddr = 0.0.0.0" in files["manager.conf"]
    assert "permit = 172.30.233.0/255.255.255.0" in files["manager.conf"]
    assert "external_media_address = 192.0.2.10" in files["pjsip.conf"]
    assert "AGENT_HOURS = 09:00-17:00" in files["extensions.conf"]
    assert "AGENT_DAYS = mon-sat" in files["extensions.conf"]


def test_a_wildcard_sip_address_leaves_rtp_unbound() -> None:
    settings = Settings(sip_host="0.0.0.0")
    pjsip = render_config(settings)["pjsip.conf"]
    assert "bind = 0.0.0.0:5060" in pjsip
    assert "media_address" not in pjsip


@pytest.mark.parametrize(
    ("field", "value"),
    [("ami_secret", "a;b"), ("sip_password", "a\nb"), ("ami_user", ""), ("agi_host", "x\r")],
)
def test_values_that_would_rewrite_the_configuration_are_refused(field: str, value: str) -> None:
    settings = Settings(**{field: value})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=field):
        render_config(settings)


@pytest.mark.parametrize(
    "options",
    [
        DialplanOptions(agent_hours="9-5"),
        DialplanOptions(agent_days="monday"),
        DialplanOptions(rtp_start=20000, rtp_end=10000),
    ],
)
def test_bad_options_are_refused(options: DialplanOptions) -> None:
    with pytest.raises(ConfigError):
        render_config(SETTINGS, options)


def test_write_config_protects_secrets_and_drops_stale_files(tmp_path: Path) -> None:
    (tmp_path / "sip.conf").write_text("; left from an older version\n")
    written = write_config(SETTINGS, tmp_path)
    names = {path.name for path in written}
    assert {"asterisk.conf", "extensions.conf", "pjsip.conf", "manager.conf"} <= names
    assert not (tmp_path / "sip.conf").exists()
    assert stat.S_IMODE((tmp_path / "manager.conf").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "pjsip.conf").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "extensions.conf").stat().st_mode) == 0o644
    assert not list(tmp_path.glob(".*.tmp"))


def test_render_command_writes_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOTLINE_AMI_SECRET", "from-the-environment")
    code = telephony_main(["render", "--out", str(tmp_path / "etc"), "--ami-bind", "0.0.0.0"])
    assert code == 0
    assert "from-the-environment" in (tmp_path / "etc" / "manager.conf").read_text()
    assert "manager.conf" in capsys.readouterr().out


def test_recordings_map_between_the_host_and_asterisk(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    inside = recordings_dir_in_asterisk(settings)
    assert inside == PurePosixPath("/var/spool/hotline/recordings")
    host_file = settings.recordings_dir / "2024" / "call-1.wav"
    asterisk_file = asterisk_path_of_recording(settings, host_file)
    assert asterisk_file == "/var/spool/hotline/recordings/2024/call-1.wav"
    assert host_path_of_recording(settings, asterisk_file) == host_file


def test_a_container_sets_where_asterisk_sees_the_recordings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, asterisk_recordings_dir="/recordings")
    assert (
        asterisk_path_of_recording(settings, settings.recordings_dir / "a.wav")
        == "/recordings/a.wav"
    )
    assert "HOTLINE_RECORDINGS = /recordings" in render_config(settings)["extensions.conf"]
    with pytest.raises(ValueError):
        host_path_of_recording(settings, "/elsewhere/a.wav")
    with pytest.raises(ValueError):
        host_path_of_recording(settings, "/recordings/../etc/passwd")


def test_no_asterisk_log_takes_the_keys_callers_press() -> None:
    """Asterisk's ``dtmf`` level logs every key, so an ID number or password keyed would be
    rebuilt from the log, line by line."""
    files = render_config(SETTINGS)
    channels = [
        line.partition("=>")[2]
        for line in files["logger.conf"].splitlines()
        if "=>" in line and not line.lstrip().startswith(";")
    ]
    assert channels and not [c for c in channels if "dtmf" in c.lower()]


def test_the_load_benchmark_alone_logs_keys_beside_the_prompts_with_milliseconds() -> None:
    """``asterisk_key_log`` (the end-to-end load run's data folder) has full.log take the keys
    beside the prompts played (verbose), timed to the millisecond; without it no file does."""
    logger = render_config(dataclasses.replace(SETTINGS, asterisk_key_log=True))["logger.conf"]
    assert "full.log => notice,warning,error,verbose(3),dtmf" in logger.splitlines()
    assert "dateformat = %F %T.%3q" in logger.splitlines()


def test_the_call_cap_comes_from_the_settings_or_the_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    capped = render_config(dataclasses.replace(SETTINGS, max_calls=7))["extensions.conf"]
    assert "HOTLINE_MAX_CALLS = 7" in capped
    monkeypatch.setattr(dialplan, "core_count", lambda: 3)
    auto = render_config(SETTINGS)["extensions.conf"]
    assert f"HOTLINE_MAX_CALLS = {3 * dialplan.CALLS_PER_CORE}" in auto
    loaded = Settings.load(env={"HOTLINE_MAX_CALLS": "12"}, data_dir=Path("/nonexistent"))
    assert "HOTLINE_MAX_CALLS = 12" in render_config(loaded)["extensions.conf"]
    with pytest.raises(ConfigError, match="max_calls"):
        render_config(dataclasses.replace(SETTINGS, max_calls=-1))


def test_past_the_cap_a_call_is_refused_before_the_flow() -> None:
    text = render_config(SETTINGS)["extensions.conf"]
    flow = text[text.index("[hotline-flow]") :]
    counted = flow.index("GROUP_COUNT(calls@hotline)} > ${HOTLINE_MAX_CALLS}]?full,1")
    assert flow.index("Set(GROUP(hotline)=calls)") < counted < flow.index("Answer()")
    assert counted < flow.index("AGI(")
    # The admission gate's lease (ivr/ami/admission.py): none until the hotline sets one.
    assert f"\n{SHED_UNTIL} = 0\n" in text[: text.index("[hotline-inbound]")]
    shed = flow.index(f"GotoIf($[${{EPOCH}} < ${{{SHED_UNTIL}}}]?shed,1)")
    assert counted < shed < flow.index("Answer()")
    for reason in ("full", "shed"):  # each says why in the log, then refuses the same way
        exten = flow[flow.index(f"exten => {reason},1") :]
        assert exten.index("Set(HOTLINE_REFUSAL=") < exten.index("Goto(busy,1)")
    busy = flow[flow.index("exten => busy,1") :]
    busy = busy[: busy.index("\n\n")]
    assert "Gosub(hotline-play-early,s,1(lines_busy," in busy
    assert "Answer" not in busy and "AGI" not in busy
    assert busy.rstrip().endswith("Hangup(17)")
