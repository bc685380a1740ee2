"""Configuration: environment > .env in the working directory > settings file > defaults; a bad
value is refused with a ConfigError that names the variable; folders are private."""

from __future__ import annotations

import dataclasses
import json
import re
import stat
from datetime import time
from pathlib import Path

import pytest

from parking_desktop.config import (
    REGISTRY,
    ConfigError,
    Settings,
    load_settings,
    make_private_dir,
    read_settings_file,
    save_settings,
    settings_as_env,
    write_settings_file,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the platform folders and the working directory at a private temporary home."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_defaults_use_the_platform_folders(home: Path) -> None:
    settings = load_settings(environ={})
    data = home / "xdg-data" / "ParkingDesktop"
    assert settings.data_dir == data
    assert settings.database_url == f"sqlite:///{data / 'parking.db'}"
    assert settings.cache_dir == data / "cache"
    assert settings.upload_folder == data / "exports"
    assert settings.settings_file == home / "xdg-config" / "ParkingDesktop" / "settings.json"
    assert settings.mail_port == 25
    assert settings.daily_reminder_time == time(18, 0)
    assert settings.monthly_report_day == 1
    assert settings.app_timezone == "UTC"
    assert settings.scheduler_enabled is True


def test_env_beats_dotenv_beats_settings_file_beats_defaults(home: Path) -> None:
    config_file = home / "xdg-config" / "ParkingDesktop" / "settings.json"
    write_settings_file(config_file, {
        "MAIL_SERVER": "file.example.com", "MAIL_PORT": "2525", "CLEANUP_TIME": "03:30",
        "APP_TIMEZONE": "Asia/Tokyo",
    })
    (home / "work" / ".env").write_text(
        "MAIL_SERVER=dotenv.example.com\nMAIL_PORT=587\n", encoding="utf-8"
    )
    settings = load_settings(environ={"MAIL_SERVER": "env.example.com"})
    assert settings.mail_server == "env.example.com"  # environment wins
    assert settings.mail_port == 587  # .env beats the settings file
    assert settings.cleanup_time == time(3, 30)  # settings file beats the default
    assert settings.app_timezone == "Asia/Tokyo"
    assert settings.monthly_report_time == time(9, 0)  # default


def test_an_empty_environment_variable_does_not_hide_the_settings_file(home: Path) -> None:
    write_settings_file(home / "xdg-config" / "ParkingDesktop" / "settings.json",
                        {"MAIL_SERVER": "file.example.com"})
    assert load_settings(environ={"MAIL_SERVER": ""}).mail_server == "file.example.com"


def test_command_line_overrides_win_over_everything(home: Path, tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "portable", database_url="postgresql://db.example/parking",
        environ={"DATABASE_URL": "sqlite:///elsewhere.db", "PARKING_DATA_DIR": str(tmp_path)},
    )
    assert settings.data_dir == (tmp_path / "portable").resolve()
    assert settings.database_url == "postgresql://db.example/parking"
    # A portable data folder keeps its settings file with it.
    assert settings.settings_file == (tmp_path / "portable" / "settings.json").resolve()


def test_a_portable_data_dir_reads_its_own_settings_file(home: Path, tmp_path: Path) -> None:
    portable = tmp_path / "portable"
    write_settings_file(portable / "settings.json", {"MAIL_PORT": "465", "MAIL_USE_SSL": "true"})
    settings = load_settings(data_dir=portable, environ={})
    assert (settings.mail_port, settings.mail_use_ssl) == (465, True)


def test_database_cache_and_upload_folders_from_the_environment(home: Path,
                                                                tmp_path: Path) -> None:
    settings = load_settings(environ={
        "DATABASE_URL": "postgresql://postgres@127.0.0.1/parking",
        "CACHE_DIR": str(tmp_path / "c"), "UPLOAD_FOLDER": str(tmp_path / "u"),
    })
    assert settings.database_url == "postgresql://postgres@127.0.0.1/parking"
    assert settings.cache_dir == tmp_path / "c"
    assert settings.upload_folder == tmp_path / "u"
    assert not settings.is_sqlite


def test_every_typed_variable_is_parsed(home: Path) -> None:
    settings = load_settings(environ={
        "MAIL_PORT": "587", "MAIL_USE_TLS": "yes", "MAIL_USE_SSL": "0", "SCHEDULER_ENABLED": "off",
        "DAILY_REMINDER_TIME": "7:05", "MONTHLY_REPORT_DAY": "28", "CSV_EXPORT_EXPIRY_HOURS": "48",
        "APP_TIMEZONE": " Europe/Paris ", "MAIL_DEFAULT_SENDER": " lots@example.com ",
    })
    assert settings.mail_port == 587
    assert settings.mail_use_tls is True
    assert settings.mail_use_ssl is False
    assert settings.scheduler_enabled is False
    assert settings.daily_reminder_time == time(7, 5)
    assert settings.monthly_report_day == 28
    assert settings.csv_export_expiry_hours == 48
    assert settings.app_timezone == "Europe/Paris"
    assert str(settings.tz) == "Europe/Paris"
    assert settings.mail_default_sender == "lots@example.com"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MAIL_PORT", "smtp", "MAIL_PORT must be a whole number, not 'smtp'"),
        ("MAIL_PORT", "70000", "MAIL_PORT must be between 1 and 65535, not 70000"),
        ("MAIL_USE_TLS", "maybe", "MAIL_USE_TLS must be true or false, not 'maybe'"),
        ("SCHEDULER_ENABLED", "2", "SCHEDULER_ENABLED must be true or false"),
        ("DAILY_REMINDER_TIME", "25:00", "DAILY_REMINDER_TIME must be a time like 18:00"),
        ("MONTHLY_REPORT_TIME", "9am", "MONTHLY_REPORT_TIME must be a time like 18:00, not '9am'"),
        ("CLEANUP_TIME", "02:00:00", "CLEANUP_TIME must be a time like 18:00"),
        ("MONTHLY_REPORT_DAY", "31", "MONTHLY_REPORT_DAY must be between 1 and 28, not 31"),
        ("CSV_EXPORT_EXPIRY_HOURS", "0", "CSV_EXPORT_EXPIRY_HOURS must be between 1"),
        ("APP_TIMEZONE", "Mars/Olympus", "APP_TIMEZONE 'Mars/Olympus' is not a known time zone"),
        ("APP_TIMEZONE", "Europe", "APP_TIMEZONE 'Europe' is not a known time zone"),
        ("APP_TIMEZONE", "../etc/passwd", "APP_TIMEZONE '../etc/passwd' is not a known"),
        ("DATABASE_URL", "mysql://root:secret@db/parking", "DATABASE_URL (or --db) must be"),
    ],
)
def test_a_bad_value_names_the_variable(home: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        load_settings(environ={name: value})
    assert "secret" not in str(info.value)  # a URL's password is never echoed


def test_a_bad_value_in_the_settings_file_is_named_too(home: Path) -> None:
    write_settings_file(home / "xdg-config" / "ParkingDesktop" / "settings.json",
                        {"MAIL_PORT": "many"})
    with pytest.raises(ConfigError, match="MAIL_PORT must be a whole number"):
        load_settings(environ={})


def test_tls_and_ssl_together_are_refused(home: Path) -> None:
    with pytest.raises(ConfigError, match="MAIL_USE_TLS and MAIL_USE_SSL cannot both be on"):
        load_settings(environ={"MAIL_USE_TLS": "true", "MAIL_USE_SSL": "true"})


def test_an_unreadable_settings_file_is_a_config_error(home: Path) -> None:
    path = home / "xdg-config" / "ParkingDesktop" / "settings.json"
    make_private_dir(path.parent)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"settings file .* cannot be read"):
        load_settings(environ={})
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a JSON object"):
        load_settings(environ={})


def test_folders_are_created_private(home: Path) -> None:
    settings = load_settings(environ={})
    settings.ensure_folders()
    for folder in (settings.data_dir, settings.cache_dir, settings.upload_folder):
        assert folder.is_dir()
        assert mode(folder) == 0o700, folder


def test_an_existing_folder_keeps_its_mode_and_missing_ones_are_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2775)  # a group's folder: the program must not take it over
    make_private_dir(shared / "a" / "b")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o2775
    for created in (shared / "a", shared / "a" / "b"):  # (setgid is inherited: still private)
        assert mode(created) & 0o777 == 0o700, created
    make_private_dir(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o2775


def test_a_folder_path_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="is a regular file, not a folder"):
        make_private_dir(blocker / "sub")
    assert blocker.read_text() == "x"


def test_settings_file_is_private_and_round_trips(home: Path, tmp_path: Path) -> None:
    settings = load_settings(environ={"MAIL_PORT": "587", "APP_TIMEZONE": "Europe/Paris",
                                      "DAILY_REMINDER_TIME": "17:45", "MAIL_USE_TLS": "1"})
    path = tmp_path / "cfg" / "settings.json"
    write_settings_file(path, settings_as_env(settings))
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    saved = read_settings_file(path)
    assert "MAIL_PASSWORD" not in saved  # the SMTP password lives in the keyring only
    assert json.loads(path.read_text(encoding="utf-8"))["MAIL_PORT"] == "587"
    again = load_settings(data_dir=tmp_path / "cfg", environ={})
    assert settings_as_env(again) == settings_as_env(settings)


def test_dotenv_path_can_be_given_explicitly(home: Path, tmp_path: Path) -> None:
    dotenv = tmp_path / "site.env"
    dotenv.write_text("APP_TIMEZONE=America/New_York\n", encoding="utf-8")
    assert load_settings(environ={}, dotenv_path=dotenv).app_timezone == "America/New_York"
    # ...and the working directory's .env is then not read.
    (home / "work" / ".env").write_text("APP_TIMEZONE=Asia/Tokyo\n", encoding="utf-8")
    assert load_settings(environ={}, dotenv_path=dotenv).app_timezone == "America/New_York"
    assert load_settings(environ={}).app_timezone == "Asia/Tokyo"


def test_a_binary_settings_file_or_dotenv_names_the_file(home: Path) -> None:
    path = home / "xdg-config" / "ParkingDesktop" / "settings.json"
    make_private_dir(path.parent)
    path.write_bytes(b"\xff\xfe\x00\x01binary\x9c")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={})
    assert str(info.value) == f"The settings file {path} is not UTF-8 text; fix or delete it."
    path.unlink()
    dotenv = home / "work" / ".env"
    dotenv.write_bytes(b"MAIL_PORT=\xff\xfe25\n")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={})
    assert str(info.value) == f"The .env file {dotenv} is not UTF-8 text; fix or delete it."


def test_settings_are_never_written_through_a_link(tmp_path: Path) -> None:
    """A settings file that is a symbolic link is refused: the write would land wherever the
    link points. The link and its target stay as they were."""
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    link = tmp_path / "settings.json"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="settings file cannot be written"):
        write_settings_file(link, {"APP_TIMEZONE": "Europe/Paris"})
    assert link.is_symlink() and target.read_text() == "{}"
    assert {p.name for p in tmp_path.iterdir()} == {"elsewhere.json", "settings.json"}


ROOT = Path(__file__).resolve().parents[2]


def test_env_example_and_readme_list_exactly_the_registry() -> None:
    """A setting added to the registry without its line in env_example.txt (or README's
    list), or a documented variable nothing reads, fails here."""
    registry = [s.name for s in REGISTRY]
    assert len(set(registry)) == len(registry)
    example = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / "env_example.txt").read_text(
        encoding="utf-8"), flags=re.MULTILINE)
    assert set(example) == set(registry)  # (DATABASE_URL has two examples)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("Every variable is"):]
    paragraph = paragraph[:paragraph.index("\n\n")]
    assert sorted(re.findall(r"`([A-Z][A-Z0-9_]+)`", paragraph)) == sorted(registry)


def test_every_registry_row_is_a_settings_field_with_a_usable_default(home: Path) -> None:
    fields = {f.name for f in dataclasses.fields(Settings)} - {"settings_file"}
    assert {s.attr for s in REGISTRY} == fields
    settings = load_settings(environ={})
    for setting in REGISTRY:
        if setting.default is not None:  # None: worked out from the data folder
            assert getattr(settings, setting.attr) == setting.default
            # The default's text reads back as the default.
            assert setting.parse(setting.name, setting.text(setting.default)) == setting.default


def test_saving_goes_through_the_registry_and_keeps_what_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.json"
    write_settings_file(path, {"MAIL_SERVER": "smtp.example.com"})
    assert save_settings(path, {"DAILY_REMINDER_TIME": "7:05", "MAIL_USE_TLS": "yes"}) == {
        "DAILY_REMINDER_TIME": "07:05", "MAIL_USE_TLS": "true"}
    assert read_settings_file(path) == {"MAIL_SERVER": "smtp.example.com",
                                        "DAILY_REMINDER_TIME": "07:05", "MAIL_USE_TLS": "true"}
    before = path.read_bytes()
    for changes, message in (
            ({"MONTHLY_REPORT_DAY": "31"}, "MONTHLY_REPORT_DAY must be between 1 and 28"),
            ({"NO_SUCH_SETTING": "1"}, "Unknown setting: NO_SUCH_SETTING"),
            ({"DATABASE_URL": "sqlite:///x.db"}, "DATABASE_URL cannot be saved"),
            ({"TWILIO_AUTH_TOKEN": "secret"}, "TWILIO_AUTH_TOKEN cannot be saved"),
            ({"CLEANUP_TIME": "03:00", "MAIL_PORT": "0"}, "MAIL_PORT must be between")):
        with pytest.raises(ConfigError, match=message):
            save_settings(path, changes)
        assert path.read_bytes() == before  # a refused save writes nothing
    assert mode(path) == 0o600


def test_secrets_are_read_from_the_environment_only_and_never_shown(home: Path) -> None:
    write_settings_file(home / "xdg-config" / "ParkingDesktop" / "settings.json",
                        {"TWILIO_AUTH_TOKEN": "from-file", "PARKING_DATA_DIR": "/elsewhere"})
    settings = load_settings(environ={})
    assert settings.twilio_auth_token == ""  # a secret is never taken from the file
    assert settings.data_dir == home / "xdg-data" / "ParkingDesktop"
    settings = load_settings(environ={"TWILIO_AUTH_TOKEN": "tok-123", "TWILIO_ACCOUNT_SID": "AC1"})
    assert settings.twilio_auth_token == "tok-123" and settings.twilio_account_sid == "AC1"
    assert "tok-123" not in repr(settings)
    assert "TWILIO_AUTH_TOKEN" not in settings_as_env(settings)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MAIL_SERVER", "smtp example.com", "MAIL_SERVER must be a host name"),
    ("MAIL_USERNAME", "a\nb", "MAIL_USERNAME (the SMTP user name) cannot contain line breaks"),
    ("GOOGLE_CHAT_WEBHOOK_URL", "http://chat.example.com/x", "must start with https://"),
    ("KIOSK_IDLE_SECONDS", "5", "KIOSK_IDLE_SECONDS must be between 10 and 86400, not 5"),
])
def test_the_screens_rules_apply_at_start_too(home: Path, name: str, value: str,
                                              message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(environ={name: value})
