"""The outbox and the dispatcher, against a real JSON webhook receiver and Apprise.

Each change is announced once: a site's first complete crawl as one baseline summary, every later
change by itself, only once its crawl has finished; a receiver that is down (500, or not
listening) gets every message once it is back, and none twice.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crawler.profiles import Config, load_config
from monitor.notify import Dispatcher, NotifySettings, backoff, shown_target
from storage.archive import Archive
from storage.models_notify import ChangeNoticeRow, DeliveryRow
from storage.types import now
from tests.daemon_helpers import Receiver
from tests.plugins.archive import fetched, gone

SITE = "s1"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def _config(tmp_path: Path, targets: list[str], kinds: list[str] | None = None) -> Config:
    extra = f"notify_kinds = {json.dumps(kinds)}\n" if kinds else ""
    path = tmp_path / "tgwatch.toml"
    path.write_text(
        f"notify = {json.dumps(targets)}\n\n[[sites]]\nname = \"{SITE}\"\n"
        f"start_urls = [\"http://127.0.0.1:9/\"]\narticle_url = \"-\\\\d+$\"\n{extra}",
        encoding="utf-8",
    )
    return load_config(path)


def _crawl(archive: Archive, *observations: tuple[str, Any], finish: bool = True) -> int:
    run = archive.start_run(SITE, pid=None)
    for url, obs in observations:
        archive.record(SITE, url, obs, run_id=run)
    if finish:
        archive.finish_run(run, "ok", {})
    return run


class Clock:
    """The dispatcher's clock in a test: time moves only when the test says so."""

    def __init__(self) -> None:
        self.at = now()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def _dispatcher(archive: Archive, config: Config, clock: Clock | None = None, **settings: Any) -> Dispatcher:
    options = NotifySettings(retry=0.2, send_timeout=3, **settings)
    return Dispatcher(archive, config, options, logging.getLogger("tgwatch.test"), clock=clock or now)


def _url(n: int) -> str:
    return f"https://example.vn/bai-{n}"


def _statuses(archive: Archive) -> dict[str, int]:
    with archive.reading() as session:
        return dict(session.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)).all())


def test_baseline_then_one_message_per_change(archive: Archive, receiver: Receiver, tmp_path: Path) -> None:
    dispatcher = _dispatcher(archive, _config(tmp_path, [receiver.url]))
    _crawl(archive, *[(_url(n), fetched(n, url=_url(n), title=f"Bài {n}")) for n in range(1, 4)])
    dispatcher.run()
    assert receiver.titles() == ["s1: baseline of 3 reports archived"]

    _crawl(archive, (_url(1), fetched(10, url=_url(1), title="Bài 1 (sửa)")), (_url(2), gone(10)),
           (_url(4), fetched(10, url=_url(4), title="Bài 4")))
    _crawl(archive, (_url(2), gone(20)))
    dispatcher.run()
    dispatcher.run()  # nothing new: nothing sent
    titles = receiver.titles()
    assert titles[1:] == ["[s1] edited: Bài 1 (sửa)", "[s1] new: Bài 4", "[s1] removed: Bài 2"]
    edited = receiver.messages[1]["message"]
    assert _url(1) in edited and "changed: title" in edited and "Bài 1 → Bài 1 (sửa)" in edited
    assert "No longer online" in receiver.messages[3]["message"]
    assert _statuses(archive) == {"sent": 4}


def test_changes_of_a_running_crawl_wait_for_its_end(archive: Archive, receiver: Receiver, tmp_path: Path) -> None:
    dispatcher = _dispatcher(archive, _config(tmp_path, [receiver.url]))
    run = _crawl(archive, (_url(1), fetched(1, url=_url(1))), finish=False)
    dispatcher.run()
    assert receiver.titles() == []  # the baseline is not split: the first crawl is still running
    archive.record(SITE, _url(2), fetched(2, url=_url(2)), run_id=run)
    archive.finish_run(run, "ok", {})
    dispatcher.run()
    assert receiver.titles() == ["s1: baseline of 2 reports archived"]


def test_a_failed_first_crawl_is_no_baseline(archive: Archive, receiver: Receiver, tmp_path: Path) -> None:
    dispatcher = _dispatcher(archive, _config(tmp_path, [receiver.url]))
    run = _crawl(archive, (_url(1), fetched(1, url=_url(1))), finish=False)
    archive.finish_run(run, "failed", {}, "boom")
    dispatcher.run()
    assert receiver.titles() == []
    _crawl(archive, (_url(2), fetched(2, url=_url(2))))
    dispatcher.run()
    assert receiver.titles() == ["s1: baseline of 2 reports archived"]


def test_receiver_down_then_back_gets_each_message_once(archive: Archive, receiver: Receiver, tmp_path: Path) -> None:
    clock = Clock()
    dispatcher = _dispatcher(archive, _config(tmp_path, [receiver.url]), clock)
    _crawl(archive, (_url(1), fetched(1, url=_url(1))))
    dispatcher.run()  # baseline sent while the receiver is up
    receiver.status = 500
    _crawl(archive, *[(_url(n), fetched(n, url=_url(n), title=f"Bài {n}")) for n in (2, 3, 4)])
    dispatcher.run()
    assert receiver.hits == 2  # one try, then the target is skipped for the rest of the pass
    assert _statuses(archive) == {"sent": 1, "failed": 1, "pending": 2}

    receiver.stop()  # not listening at all
    clock.advance(0.25)  # the first retry is due after 0.2 s
    dispatcher.run()
    assert _statuses(archive) == {"sent": 1, "failed": 1, "pending": 2}
    with archive.reading() as session:
        failed = session.scalars(select(DeliveryRow).where(DeliveryRow.status == "failed")).one()
    assert failed.attempts == 2 and "connection" in (failed.last_error or "").lower()

    receiver.status = 200
    receiver.start()  # back on the same port
    dispatcher.run()  # the failed one is not due yet (back-off 0.4 s); the others go out
    assert _statuses(archive) == {"sent": 3, "failed": 1}
    clock.advance(0.45)
    dispatcher.run()
    dispatcher.run()
    titles = receiver.titles()
    assert sorted(titles[1:]) == ["[s1] new: Bài 2", "[s1] new: Bài 3", "[s1] new: Bài 4"]
    assert _statuses(archive) == {"sent": 4}


def test_two_dispatchers_never_send_one_message_twice(archive: Archive, receiver: Receiver, tmp_path: Path) -> None:
    config = _config(tmp_path, [receiver.url])
    first, second = _dispatcher(archive, config), _dispatcher(archive, config)
    _crawl(archive, (_url(1), fetched(1, url=_url(1))))
    first.run()
    _crawl(archive, *[(_url(n), fetched(n, url=_url(n), title=f"Bài {n}")) for n in range(2, 12)])
    threads = [threading.Thread(target=d.run) for d in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    titles = receiver.titles()
    assert len(titles) == len(set(titles)) == 11


def test_kinds_and_targets(archive: Archive, receiver: Receiver, tmp_path: Path) -> None:
    other = Receiver()
    try:
        dispatcher = _dispatcher(archive, _config(tmp_path, [receiver.url, other.url], kinds=["removed"]))
        _crawl(archive, (_url(1), fetched(1, url=_url(1))), (_url(2), fetched(1, url=_url(2))))
        dispatcher.run()
        _crawl(archive, (_url(1), fetched(5, url=_url(1), title="sửa")), (_url(2), gone(5)))
        _crawl(archive, (_url(2), gone(6)))
        dispatcher.run()
        # "new" is not announced here: no baseline summary, no message for the edit
        assert receiver.titles() == other.titles() == ["[s1] removed: Ban Tuyên giáo Trung ương triển khai nhiệm vụ"]
        with archive.reading() as session:
            assert session.scalar(select(func.count()).select_from(ChangeNoticeRow)) == 4
    finally:
        other.stop()


def test_an_invalid_target_fails_without_stopping_others(archive: Archive, receiver: Receiver, tmp_path: Path) -> None:
    dispatcher = _dispatcher(archive, _config(tmp_path, ["nonsense://x", receiver.url]))
    _crawl(archive, (_url(1), fetched(1, url=_url(1))))
    dispatcher.run()
    assert receiver.titles() == ["s1: baseline of 1 reports archived"]
    with archive.reading() as session:
        bad = session.scalars(select(DeliveryRow).where(DeliveryRow.status == "failed")).one()
    assert bad.last_error == "not a valid Apprise URL"


def test_backoff_and_shown_target() -> None:
    settings = NotifySettings(retry=60, retry_max=3600)
    assert [backoff(n, settings) for n in (1, 2, 3, 10)] == [60, 120, 240, 3600]
    assert shown_target("tgram://123456:SECRET@chat/42") == "tgram://chat"
    assert shown_target("json://user:pw@127.0.0.1:8080/hook?x=1") == "json://127.0.0.1:8080"


def test_closed_port_is_free() -> None:
    """Sanity check for the receiver helper: a stopped receiver really refuses connections."""
    server = Receiver()
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_outbox_models_match_migration_0002(archive: Archive) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.models import Base

    ours = {"change_notices", "deliveries", "notify_baselines", "apscheduler_jobs"}

    def include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in ours

    with archive.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include, "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_a_long_paragraph_edit_shows_where_it_changed() -> None:
    from monitor.outbox import _text_diff

    paragraph = ("Cũng tại hội nghị, báo cáo viên Ban Tuyên giáo Tỉnh ủy đã thông tin một số nội dung mới về công tác "
                 "chuẩn bị đại hội đảng bộ các cấp nhiệm kỳ 2025 - 2030, những điểm cần lưu ý trong tuyên truyền "
                 "đại hội và kết quả thực hiện nghị quyết của Đảng bộ tỉnh.")
    edited = paragraph.replace("kết quả thực hiện", "kết quả bước đầu thực hiện")
    before, after, added = _text_diff(["Mở đầu.", paragraph], ["Mở đầu.", edited, "Đoạn mới."])
    assert before.startswith("-…") and after.startswith("+…")
    assert "kết quả thực hiện" in before and "kết quả bước đầu thực hiện" in after
    assert len(after) < len(edited)  # cut around the change, at a word's start
    assert after[2] != " " and edited.find(after[2:12]) > 0
    assert added == "+Đoạn mới."


def test_substantive_edits_only(archive: Archive, receiver: Receiver, tmp_path: Path) -> None:
    """``notify_kinds = ["edited:substantive"]``: a restored tone mark is archived, never announced."""
    dispatcher = _dispatcher(archive, _config(tmp_path, [receiver.url], kinds=["edited:substantive"]))
    _crawl(archive, (_url(1), fetched(1, url=_url(1), title="Hội nghị ph biến nghị quyết")))
    dispatcher.run()
    _crawl(archive, (_url(1), fetched(5, url=_url(1), title="Hội nghị phổ biến nghị quyết")))
    _crawl(archive, (_url(1), fetched(9, url=_url(1), title="Hội nghị phổ biến 3 nghị quyết")))
    dispatcher.run()
    assert receiver.titles() == ["[s1] edited: Hội nghị phổ biến 3 nghị quyết"]
    message = receiver.messages[0]["message"]
    assert "edit: substantive" in message and 'number [title]: + 3 (in "Hội nghị phổ biến 3 nghị quyết")' in message
