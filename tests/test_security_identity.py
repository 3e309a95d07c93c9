"""Guarantee: self-exclusion holds whichever form a file names the reader by (issue 9, item 4).

Attacks replayed on the real engine with ingested pages: the reader's file under the legacy
15-digit ID number, a page quoting the reader's number in 15-digit form, a reader registered
under the 15-digit form reading an 18-digit file, a relative registered as 15 digits, a file
that names the reader by name and birth date under a re-issued number (another region), in
the manifest or only on the page, in traditional script. A namesake with another birth date
stays visible. A look-up by either form finds the same pages for an authorised reader. Every
failure names the document that leaked (or went missing).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest
from sqlalchemy import select, text

from indexer.identity import birth_date, canonical_id, id15_to_id18, person_value
from search_app.accounts.models import User
from search_app.crypto import Vault, vault_from_config
from search_app.db import get_session
from search_app.search import ReadDenied, lookup_pii, search_pages, view_page
from search_app.accounts import dual_control
from tests.conftest import PASSWORD, meta
from tests.test_admin_views import confirm_pending

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def to18(id15: str) -> str:
    """GB 11643: "19" before the two-digit year, then the check character (computed here
    independently of the code under test)."""
    body = id15[:6] + "19" + id15[6:]
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS)) % 11]


PHRASE = "身份形式测试"
UNIT, CATEGORY = "组织部", "干部人事档案"
NAME = "王建国"  # reader A's registered name
A15 = "320102820315041"  # reader A, legacy form (Nanjing, born 1982-03-15)
A18 = to18(A15)
MOVED15 = "110108820315043"  # reader A's re-issued number after moving: same name and birth date
MOVED18 = to18(MOVED15)
NAMESAKE18 = to18("110108850707045")  # another 王建国, born 1985-07-07
B15 = "440103750101032"  # reader B registers the legacy form
B18 = to18(B15)
R15 = "510104600212047"  # reader C's parent, registered as 15 digits
R18 = to18(R15)


def _doc(archive_no: str) -> str:
    return f"{archive_no}#p0001"


SPECS = [
    # the ID path alone: no subject name, so no (name, birth date) term can do the work
    meta("IDF-A15-SUBJ", category=CATEGORY, unit=UNIT, subject_id=A15,
         pages=[[f"{PHRASE} 干部履历表 本人档案 内容足够长以使用文本层"]]),
    meta("IDF-A15-PAGE", category=CATEGORY, unit=UNIT,
         pages=[[f"{PHRASE} 证明材料 证明人身份证号 {A15} 内容足够长以使用文本层"]]),
    meta("IDF-B18-SUBJ", category=CATEGORY, unit=UNIT, subject_id=B18,
         pages=[[f"{PHRASE} 考察材料 内容足够长以使用文本层"]]),
    meta("IDF-R18-SUBJ", category=CATEGORY, unit=UNIT, subject_id=R18,
         pages=[[f"{PHRASE} 亲属的人事档案 内容足够长以使用文本层"]]),
    # a scanned page (OCR, traditional script, speckle) quoting the legacy number
    meta("IDF-A15-SCAN", category=CATEGORY, unit=UNIT, fmt="png", traditional=True, noise=0.004,
         pages=[[PHRASE, "幹部履歷表 證明人", f"身份證號 {A15}", "以上情況屬實"]]),
    # the (name, birth date) path: a number the reader was never registered under
    meta("IDF-PERSON-SUBJ", category=CATEGORY, unit=UNIT, subject_name=NAME, subject_id=MOVED18,
         pages=[[f"{PHRASE} 任免审批表 内容足够长以使用文本层"]]),
    meta("IDF-PERSON-PAGE", category=CATEGORY, unit=UNIT,
         pages=[[f"{PHRASE} 干部登记表 姓名：{NAME} 性别：男 公民身份号码：{MOVED18} 内容足够长"]]),
    meta("IDF-PERSON-TRAD", category=CATEGORY, unit=UNIT,
         pages=[[f"{PHRASE} 幹部登記表 姓名：王建國 性別：男 身份證號：{MOVED15} 內容足夠長"]]),
    # controls: a namesake born on another day, and an unrelated page
    meta("IDF-NAMESAKE", category=CATEGORY, unit=UNIT, subject_name=NAME, subject_id=NAMESAKE18,
         pages=[[f"{PHRASE} 同名不同人 姓名：{NAME} 身份证号：{NAMESAKE18} 内容足够长"]]),
    meta("IDF-OTHER", category=CATEGORY, unit=UNIT,
         pages=[[f"{PHRASE} 无关人员的档案 内容足够长以使用文本层"]]),
]
ALL = {_doc(s["archive_no"]) for s in SPECS}


def test_15_digit_numbers_become_their_18_digit_form():
    assert A18 == id15_to_id18(A15) == canonical_id(A15) == canonical_id(f" {A15[:6]}-{A15[6:]} ")
    assert canonical_id(A18.lower()) == A18 and canonical_id("１" * 3) == "111"
    assert birth_date(A15) == birth_date(A18) == "19820315"
    assert birth_date("110108199913450000") is None, "a month 13 is not a birth date"


def test_blind_index_folds_both_forms_and_keeps_18_digit_hashes_unchanged():
    key = b"k" * 32
    vault = Vault({"k1": b"d" * 32}, "k1", key)
    assert vault.blind_index("id_number", A15) == vault.blind_index("id_number", A18), \
        "the 15- and 18-digit forms of one number hash differently"
    legacy = hmac.new(key, f"id_number:{A18}".encode(), hashlib.sha256).hexdigest()
    assert vault.blind_index("id_number", A18) == legacy, \
        "an 18-digit number no longer hashes as before: every stored user hash would break"
    assert vault.person_index("王建國", A15) == vault.person_index(" 王 建 国", MOVED18) \
        == vault.blind_index("person", "王建国|19820315")
    assert vault.person_index(NAME, NAMESAKE18) != vault.person_index(NAME, A18)
    assert person_value("王", A18) is None, "a one-character name is no identity"
    with pytest.raises(ValueError):
        vault.blind_index("person", NAME)


@pytest.fixture()
def registrar(app, make_user, admin):
    return app, make_user, admin[1]


@pytest.fixture(scope="module")
def corpus(app, tmp_path_factory):
    from search_app.demo import render_file
    from search_app.ingest.jobs import start_job, wait_for_job

    folder = tmp_path_factory.mktemp("identity")
    with app.app_context():
        for spec in SPECS:
            render_file(spec, folder)
        manifest = [{k: v for k, v in s.items() if k not in ("format", "pages", "traditional", "noise")}
                    for s in SPECS]
        (folder / "m.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
        job = start_job(folder / "m.json", base_dir=folder, created_by="test", queue=False)
        progress = wait_for_job(job.id, echo=lambda _l: None, poll=0.2)
    assert progress.files_done == len(SPECS), progress.errors
    return SPECS


def _register(registrar, *, display_name: str, id_number: str = "", relatives: str = "") -> User:
    """Through the security admin's form, the path a real registration takes (and, under dual
    control, a second security admin's confirmation)."""
    app, make_user, client = registrar
    username = f"idf-{uuid.uuid4().hex[:8]}"
    resp = client.post("/admin/users/new", data={
        "username": username, "password": PASSWORD, "roles": ["staff"], "unit": UNIT,
        "display_name": display_name, "id_number": id_number, "relatives": relatives})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-800:]
    session = get_session()
    session.expire_all()
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    if dual_control.pending_of(session, user):
        confirm_pending(app, make_user, user)
    session.expire_all()
    assert user.is_enabled, f"{username} was not enabled after confirmation"
    return user


def _visible(user: User, make_grant) -> set[str]:
    grant = make_grant(user, categories=[CATEGORY], units=[UNIT], classification="秘密")
    out = search_pages(user=user, grant_id=grant.id, purpose="身份回避测试", query=PHRASE,
                       page_size=100)
    return {h.doc_id for h in out.hits}


def _check(seen: set[str], hidden: set[str], who: str) -> None:
    leaked = sorted(seen & hidden)
    missing = sorted(ALL - hidden - seen)
    assert not leaked, f"LEAKED to {who}: their own / their relative's files {leaked}"
    assert not missing, f"{who}: files that are not about them were hidden too: {missing}"


@pytest.mark.integration
def test_reader_never_sees_files_naming_them_in_any_form(ctx, corpus, registrar, make_grant):
    reader = _register(registrar, display_name=NAME, id_number=A18)
    assert reader.person_hmac, "registration stored no (name, birth date) term"
    hidden = {_doc(n) for n in ("IDF-A15-SUBJ", "IDF-A15-PAGE", "IDF-A15-SCAN", "IDF-PERSON-SUBJ",
                                "IDF-PERSON-PAGE", "IDF-PERSON-TRAD")}
    _check(_visible(reader, make_grant), hidden, f"reader {NAME} registered as 18 digits")
    grant = make_grant(reader, categories=[CATEGORY], units=[UNIT], classification="秘密")
    for doc in sorted(hidden):
        with pytest.raises(ReadDenied):
            view_page(user=reader, grant_id=grant.id, purpose="身份回避测试", doc_id=doc)
            pytest.fail(f"LEAKED: {reader.username} could open {doc}, a file about themselves")


@pytest.mark.integration
def test_reader_registered_as_15_digits_is_excluded_from_18_digit_files(ctx, corpus, registrar,
                                                                       make_grant):
    reader = _register(registrar, display_name="李明", id_number=B15)
    _check(_visible(reader, make_grant), {_doc("IDF-B18-SUBJ")}, "reader registered as 15 digits")


@pytest.mark.integration
def test_relative_registered_as_15_digits_is_excluded(ctx, corpus, registrar, make_grant):
    reader = _register(registrar, display_name="赵敏", relatives=f"{R15}\n")
    _check(_visible(reader, make_grant), {_doc("IDF-R18-SUBJ")}, "reader with a 15-digit relative")


@pytest.mark.integration
def test_lookup_by_either_form_finds_the_same_pages(ctx, corpus, make_user, make_grant):
    other = make_user("staff", unit=UNIT)
    grant = make_grant(other, categories=[CATEGORY], units=[UNIT], classification="秘密",
                       allow_lookup=True, unmask_fields=["id_number"])

    def found(value: str) -> set[str]:
        out = lookup_pii(user=other, grant_id=grant.id, purpose="核查", kind="id_number",
                         value=value)
        return {h.doc_id for h in out.hits}

    for short, long_, expected in (
            (A15, A18, {"IDF-A15-SUBJ", "IDF-A15-PAGE", "IDF-A15-SCAN"}),
            (MOVED15, MOVED18, {"IDF-PERSON-SUBJ", "IDF-PERSON-PAGE", "IDF-PERSON-TRAD"})):
        want = {_doc(n) for n in expected}
        by15, by18 = found(short), found(long_)
        assert by15 == want, f"look-up by the 15-digit form: missing {sorted(want - by15)}, extra {sorted(by15 - want)}"
        assert by18 == want, f"look-up by the 18-digit form: missing {sorted(want - by18)}, extra {sorted(by18 - want)}"


@pytest.mark.integration
def test_grant_about_a_person_covers_their_files_under_either_form(ctx, corpus, make_user,
                                                                   make_grant):
    other = make_user("staff", unit=UNIT)
    grant = make_grant(other, categories=[CATEGORY], units=[UNIT], classification="秘密",
                       subject_id=A18)
    out = search_pages(user=other, grant_id=grant.id, purpose="考察", query=PHRASE, page_size=100)
    seen = {h.doc_id for h in out.hits}
    assert seen == {_doc("IDF-A15-SUBJ")}, \
        f"a grant about {A18[:6]}… should cover exactly the file filed under the 15-digit form: {sorted(seen)}"


@pytest.mark.integration
def test_no_number_or_birth_date_is_stored_in_clear(ctx, corpus, registrar, app):
    reader = _register(registrar, display_name=NAME, id_number=A15)
    row = " ".join(str(v) for v in get_session().execute(
        text("SELECT * FROM users WHERE id = :i"), {"i": reader.id}).one())
    for secret in (A15, A18, A18[:17], "19820315", "820315"):
        assert secret not in row, f"LEAK: the users row holds {secret!r} in clear"
    assert reader.id_number_hmac == vault_from_config(app.config).blind_index("id_number", A18)


@pytest.mark.integration
def test_cli_registration_stores_the_same_terms_as_the_admin_form(app, ctx):
    username = f"idf-cli-{uuid.uuid4().hex[:6]}"
    result = app.test_cli_runner().invoke(args=[
        "create-user", username, "--role", "auditor", "--password", PASSWORD,
        "--display-name", "王建國", "--id-number", A15])
    assert result.exit_code == 0, result.output
    session = get_session()
    session.expire_all()
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    vault = vault_from_config(app.config)
    assert user.id_number_hmac == vault.blind_index("id_number", A18), \
        "the CLI hashed the 15-digit form differently from its 18-digit form"
    assert user.person_hmac == vault.person_index(NAME, A18), \
        "the CLI stored no (or another) (name, birth date) term"
