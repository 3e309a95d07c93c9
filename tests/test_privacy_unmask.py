"""Guarantee (issue 8, requirement 7): unmasking a page stored before PII spans were kept (a v1
secret: plain text, no spans) reveals only the kinds the grant unmasks. Before the fix such
pages fell back to the number patterns alone, so names and addresses came out in clear under a
grant that unmasks phones only."""
from __future__ import annotations

import pytest

from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.ingest.models import PageSecret
from search_app.ingest.secrets import decode_secret
from search_app.search import unmask_page
from tests.conftest import meta
from tests.privacy_data import id_number

pytestmark = pytest.mark.integration

NAME, SUBJECT = "赵德明", "欧阳秀英"
ADDRESS = "上海市徐汇区漕溪北路88弄12号601室"
PHONE = "13587654321"
ID = id_number("310104", "19661009", "215")
DOC = "UM-0001#p0001"
TEXT = (f"户籍登记 户主 {NAME} 公民身份号码 {ID} 住址 {ADDRESS} 联系电话 {PHONE} "
        f"同户人员 {SUBJECT}（户主之妻） 本页内容足够长以使用文本层")


@pytest.fixture()
def legacy_page(app, ctx, ingest):
    progress, _ = ingest([meta("UM-0001", subject_name=SUBJECT, subject_id=ID, pages=[[TEXT]])])
    assert progress.files_failed == 0, progress.errors
    session = get_session()
    secret = session.get(PageSecret, DOC)
    vault = vault_from_config(app.config)
    stored, _ = decode_secret(vault.decrypt(secret.ciphertext, aad=DOC.encode()))
    # What the page looked like before spans were kept: the raw text, encrypted, nothing else.
    secret.ciphertext = vault.encrypt(stored.encode(), aad=DOC.encode())
    session.commit()
    return stored


def test_unmask_of_a_v1_page_keeps_names_and_addresses_masked(ctx, legacy_page, make_user,
                                                              make_grant):
    assert NAME in legacy_page and ADDRESS in legacy_page, "the test page lost its PII"
    user = make_user("staff")
    grant = make_grant(user, unmask_fields=["phone"])
    page = unmask_page(user=user, grant_id=grant.id, purpose="核实联系方式", doc_id=DOC)
    leaked = [f"{kind} {v}" for kind, v in (("name", NAME), ("subject name", SUBJECT),
                                            ("address", ADDRESS), ("ID number", ID),
                                            ("address detail", "88弄12号601室"))
              if v in page.text]
    assert not leaked, f"LEAKED from a v1 page under a phones-only grant: {leaked}\n{page.text}"
    assert PHONE in page.text, "the phone the grant unmasks is not shown"
    assert page.unmasked == ["phone"]


def test_unmask_of_a_v1_page_shows_the_kinds_the_grant_allows(ctx, legacy_page, make_user,
                                                              make_grant):
    user = make_user("staff")
    grant = make_grant(user, unmask_fields=["name", "address"])
    page = unmask_page(user=user, grant_id=grant.id, purpose="核实住址", doc_id=DOC)
    assert NAME in page.text and ADDRESS in page.text, page.text
    assert PHONE not in page.text and ID not in page.text, \
        f"LEAKED phone/ID from a v1 page under a names+addresses grant:\n{page.text}"
