"""Role words that announce a person's name (户主、申请人、书记员 …), exact or garbled by OCR.

Form labels are where names sit, and where OCR garbles most: 审核人 comes out as 审核入, 经办人 as
经办亼, 申請人 in a traditional font as anything one stroke away. A garbled label still has the
shape of a label — a short word right before a colon — so a colon after a word that is one edit
(substitution, insertion, deletion) away from a cue of three or more characters counts as that
cue, and so does a colon after any word ending in a character that ends several role cues
(…人：, …员：, …告：): the label's last character is the one a reader trusts least, the colon the
one OCR keeps. Both only apply before a colon, so ordinary prose (审核后, 工作人) is not a cue.
"""
from __future__ import annotations

import functools
import re
from collections import Counter

from indexer import textview

__all__ = ["POST_CUE", "ROLE_CUES", "cue_regex", "fuzzy_cue_ends", "glued_cue_spans"]

ROLE_CUES = (
    "户主姓名|户主|姓名|本人|申请人|被申请人|被告人|被告|原告|上诉人|被上诉人|第三人|证人|"
    "经办人|承办人|代理人|委托人|法定代表人|负责人|联系人|监护人|介绍人|证明人|当事人|"
    "犯罪嫌疑人|嫌疑人|被害人|受害人|审判长|审判员|人民陪审员|陪审员|书记员|执行员|"
    "经办民警|民警|警官|父亲|母亲|配偶|妻子|丈夫|之夫|之妻|儿子|女儿|长子|次子|长女|次女|之子|之女|"
    "哥哥|姐姐|弟弟|妹妹|祖父|祖母|岳父|岳母|公公|婆婆|同户人|户内成员|签字人|签名|"
    "填表人|审核人|审批人|记录人|调查人|被调查人|谈话人|家庭成员|本户成员|成员|汇入|转给|交给|"
    "委托|聘请|授权|办案民警|接警员|询问人|讯问人|被询问人|报案人|鉴定人|见证人|保证人|担保人|"
    # signature fields and titles a name follows (承办人签章：…, 社区主任石念)
    "签章|签字|签收|签发人|主任|副主任|书记|副书记|科长|处长|局长|所长|院长|庭长|队长|村长|组长|"
    "站长|经理|会计|出纳|医生|老师|教师|"
    # kinship after 其/之 (其母潘翠, 其父石汉长)
    "其父|其母|其妻|其夫|其子|其女|其兄|其弟|其姐|其妹|之父|之母|其配偶|"
    # whom a witness is asked about (你认识张三吗)
    "认识|认得|"
    # form fields that name a person (户口迁移证, 起诉状, 送达回证)
    "随迁人|迁移人|具状人|代收人|受送达人|申报人|登记人|办理人|"
    # a former name (干部任免审批表: 姓名 … 曾用名 …)
    "曾用名|别名|化名|"
    # roles printed before a name without a colon (审核 纪解放, 经办柜员 房卫一, 承办法官 扎西次仁)
    "审核|审批|复核人|经办柜员|柜员|承办法官|主审法官|法官|送达人|随访人员|来访人|接待人|接待人员|"
    "兹证明|兹有|提交人|填报人|呈报人|调解员|户籍员|户籍民警|值班民警|监护人姓名|接收人|"
    # spouses as a witness names them (他老婆艾合买提其其格，)
    "老婆|老公|媳妇|爱人|前夫|前妻|"
    # a bank statement's account holder (户名:骆红 卡号…)
    "户名|账户名|开户名"
).split("|")
# Words after a name that say it is one (王芳同志, 李明等人, 张三系本案…).
POST_CUE = re.compile(
    r"同志|先生|女士|等人|等同志|之妻|之夫|之子|之女|本人|其人|名下|介绍|签字|签名|证实|陈述|供述|"
    r"系(?:夫妻|朋友|亲属|同事|邻居|父子|父女|母子|母女|兄弟|姐妹|兄妹|姐弟|同学|战友|本案)|"
    # what a witness says about a person in a 笔录 answer (你和…是什么关系, …的手机我记得是)
    r"是什么关系|的手机|的电话|和他(?:老婆|妻子|爱人)|和她(?:老公|丈夫|爱人)|"
    r"的(?:工行|农行|建行|中行|交行|邮储|银行)卡"
)
# Cues one edit from an ordinary word (兹证明 ~ 入证明 in 准予迁入证明): matched exactly only.
_EXACT_ONLY = frozenset(("兹证明",))
_COLON = "：:"
# What may follow a label: a colon, or what OCR makes of one (住址” 姓名“).
# A semicolon right after a label is a colon OCR misread (承办人签章;华旗然).
# A table rule between a label and its cell (受送达人 │ 欧阳勇华) separates them as a colon does.
LABEL_MARKS = "：:”“\"'；;|│┃"
# Kinship words and verbs (转给, 交给) end in these; a colon after them alone is no role label.
_NOT_LABEL_END = frozenset("父母子女夫妻兄弟姐妹哥婆公亲偶给")
_MAX_SKIP = 4  # spaces and colons between a label and the name


def cue_regex() -> re.Pattern[str]:
    """Exact cues, longest first, with the label punctuation after them."""
    alts = "|".join(sorted(ROLE_CUES, key=len, reverse=True))
    return re.compile(rf"(?:{alts})[{LABEL_MARKS}\s]{{0,{_MAX_SKIP}}}")


@functools.lru_cache(maxsize=1)
def _index() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """Exact cues, one-substitution keys (with \\0 for the changed character), one-deletion
    variants, and the role characters that end at least two cues."""
    exact = frozenset(c for c in ROLE_CUES if len(c) >= 3 and c not in _EXACT_ONLY)
    subst = frozenset(c[:k] + "\0" + c[k + 1:] for c in exact for k in range(len(c)))
    dele = frozenset(c[:k] + c[k + 1:] for c in exact if len(c) >= 4 for k in range(len(c)))
    ends = Counter(c[-1] for c in ROLE_CUES if len(c) >= 2)
    last = frozenset(ch for ch, n in ends.items() if n >= 2 and ch not in _NOT_LABEL_END)
    return exact, subst, dele, last


def _near_cue(word: str) -> bool:
    exact, subst, dele, _ = _index()
    if word in exact or word in dele:
        return True
    if any(word[:k] + "\0" + word[k + 1:] in subst for k in range(len(word))):
        return True
    return any(word[:k] + word[k + 1:] in exact for k in range(len(word)))


def fuzzy_cue_ends(text: str, gaps: frozenset[int] = frozenset()) -> list[int]:
    """Positions after the colon (and following spaces) of labels that are a cue within one
    edit, or that end in a role character; text is the folded view (indexer.textview).

    `gaps` are the view positions before which the original had whitespace that the view
    dropped: a label followed by such a gap ("经办亼 李明", "受送达人 狄胜") counts too, since a
    space after a label is a layout boundary as much as a colon is."""
    *_, last = _index()
    out = []
    for p, ch in enumerate(text):
        if p < 2 or not textview.is_cjk(text[p - 1]):
            continue
        if ch not in _COLON:
            if p in gaps and ((text[p - 1] in last and textview.is_cjk(text[p - 2]))
                              or any(p - n >= 0 and _near_cue(text[p - n:p]) for n in range(3, 8))):
                out.append(p)
            continue
        hit = text[p - 1] in last and textview.is_cjk(text[p - 2])
        if not hit:
            hit = any(p - n >= 0 and _near_cue(text[p - n:p]) for n in range(2, 8))
        if hit:
            end = p + 1
            while end < len(text) and end - p <= _MAX_SKIP and (text[end].isspace() or text[end] in _COLON):
                end += 1
            out.append(end)
    return out


# 人 and 员 as OCR misreads them (代收入 for 代收人, 审判只 / 书记负 for 审判员 / 书记员).
_GLUED_END = frozenset("人员入亼只贝负")


def glued_cue_spans(text: str, breaks: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """[start, end) of garbled role labels glued to what follows, with neither colon nor gap
    (申诘人邝立新, 审棱人蒲晓岚: OCR dropped the space and misread the label).

    Only labels of three to five characters that end in 人 or 员 (or a look-alike of them) and
    are one edit from a cue count: that ending is what makes a word a role, and the name
    detectors still need a name closed by the end of its field right after it. A four-character
    label one substitution from a cue of four (经办民等 for 经办民警) is specific enough to count
    whatever it ends in."""
    exact = set(ROLE_CUES)
    out = []
    _, subst, *_ = _index()
    for p in range(3, len(text)):
        if not textview.is_cjk(text[p]) or p in breaks:
            continue
        word = text[p - 4:p] if p >= 4 else ""
        if (text[p - 1] not in _GLUED_END and len(word) == 4 and word not in exact
                and all(textview.is_cjk(ch) for ch in word)
                and any(word[:k] + "\0" + word[k + 1:] in subst for k in range(4))):
            out.append((p - 4, p))
            continue
        if text[p - 1] not in _GLUED_END:
            continue
        if any(text[max(0, p - n):p] in exact or text[max(0, p - n):p + 1] in exact
               for n in range(2, 8)):
            continue  # an exact cue ends here or runs on (随访人员) (记录人 in 蒲向记录人): the cue pattern has it
        for n in (3, 4, 5):
            word = text[p - n:p] if p >= n else ""
            if len(word) == n and all(textview.is_cjk(ch) for ch in word) and word not in exact \
                    and _near_cue(word):
                out.append((p - n, p))
                break
    return out

