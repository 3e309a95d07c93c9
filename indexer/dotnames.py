"""Names of Uyghur, Kazakh, Tibetan, Mongolian … people, written as transliterated parts joined
by a middle dot (买买提·艾力, 阿依古丽•吐尔逊, 古丽・热合曼).

Neither jieba nor the surname rule sees these: the parts are not Han surnames and often not
dictionary words, so the name detector found at most one half (艾力) and left the rest readable.
What marks them is the dot between two runs of characters used for transliteration; the same dot
in 中国·北京 or 党建·引领 joins ordinary words, which the character set excludes.
The pipeline masks them (find_dot_names) before the other name detectors, indexer.names uses
the same spans in lists; after a role label, indexer.cued_names also takes a dot
OCR misread as one other mark and a misread character in each part (part_end, part_ends).
"""
from __future__ import annotations

import re

from indexer import cues, textview
from indexer.pii import PiiMatch

__all__ = ["ANY_DOTS", "PAGES", "TITLES", "TRANSLIT", "dot_spans", "find_dot_names", "part_end", "part_ends"]

# Characters of standard transliterations of minority names (新华社 naming usage); ordinary
# words and places are rarely made only of these.
_TRANSLIT = (
    "阿艾爱安昂敖奥巴拔把白拜班邦包保鲍贝倍本比毕别宾波伯勃博卜布才仓策曾查察柴昌超朝车"
    "陈成赤楚川达答大代戴丹旦道德登邓迪底蒂丁顶东都杜堆多朵俄额鄂恩尔耳二法凡方非菲斐费"
    "芬丰夫弗福甫伏盖甘冈刚高戈哥格根贡古固瓜关广贵国哈海罕汗杭豪郝合何和赫黑亨洪侯胡"
    "虎华怀欢黄惠火吉加佳嘉贾坚江姜杰洁金晋京景久居决喀卡开凯坎康柯科克肯孔库夸昆扩拉"
    "腊莱来赖兰郎朗劳勒雷蕾冷黎李里理力丽利莉连莲良列烈林琳玲灵凌刘留柳龙隆娄楼卢鲁"
    "陆路伦罗洛吕律玛马麦买迈曼满毛茂梅美蒙孟米密敏明摩莫墨默牟姆木穆拿那纳娜乃奈南"
    "楠尼妮努诺欧帕潘庞培佩彭皮平珀普齐奇其恰钱乔切钦秦青琴曲确却热仁日荣如茹瑞若萨"
    "塞赛桑色森僧沙莎山善尚绍舍申什史士斯松苏索塔泰太坦汤唐陶特提天廷通图吐托娃瓦万"
    "旺威维伟卫温文翁沃乌吾武西希锡喜夏仙贤香祥肖谢辛新欣兴休秀旭雅亚娅耶叶伊依衣仪"
    "义易艺因银英尤友于余玉元园约岳云扎札泽曾增翟詹张章赵哲珍真正志智朱卓孜兹宗祖佐"
    "逊顿珠措嘎央次肉再排荪不尕俊琪勒鲁敦娃登买孜努罕汉衣吾热乌图素甫"
)
# Function words that end the clause before a name (关于依明·买买提, 其父玉素甫·哈斯) are never
# the first character of one, though some are transliteration characters elsewhere.
_NOT_FIRST = frozenset("于关和与及的是在对向从为了其父母妻夫子女")
_PART = f"[{_TRANSLIT}]{{2,6}}"
_DOTS = "·•・‧∙⋅・."  # "." : OCR's reading of a small dot (NFKC folds ． to it)
# OCR reads the small dot as anything small: 。 ， , : ' " - or two of them (依明，,买买提).
_OCR_DOTS = "。，,:：;；'\"“”‘’-‐–`´"  # ; too (阿里木;迪丽拜尔), ` (买买提`其其格)
_ANY_DOT = re.escape(_DOTS + _OCR_DOTS)
# A printed dot may carry a space on either side (帕提古丽 · 艾合买提).
_DOT_NAME = re.compile(rf"(?<![{_TRANSLIT}]){_PART}(?:(?: ?[{re.escape(_DOTS)}] ?|[{_ANY_DOT}]{{2}})"
                       rf"{_PART}){{1,3}}(?![{_TRANSLIT}])")
_PART_RUN = re.compile(_PART)
TRANSLIT = frozenset(_TRANSLIT)
ANY_DOTS = frozenset(_DOTS + _OCR_DOTS)
_MAX_PART = 6
_MAX_MISREAD = 1  # characters per part outside the transliteration set (OCR misreads)


def _part_ok(chunk: str) -> bool:
    return (all(textview.is_cjk(ch) for ch in chunk)
            and sum(ch not in TRANSLIT for ch in chunk) <= _MAX_MISREAD < len(chunk))


# Sentence particles and connectives right after a name (你认识艾力·努尔吗): never its tail.
_PARTICLES = frozenset("吗呢吧啊呀的了是在等和与及同系为于说称被把向对")


TITLES = ("同志", "先生", "女士")  # …托合堤同志: a title closes the name as a gap does


def _misread_tail(text: str, dot: int, b: int, hard: frozenset[int]) -> int:
    """The end of the last part, taking one or two more characters when OCR misread one of them
    and the layout closes the name right after (托合堤⏎, 古丽娜示2016): else half a name stays."""
    if b >= len(text) or b in hard:
        return b
    last = max(k for k in range(dot, b) if text[k] in ANY_DOTS) + 1
    best = b
    for end in part_ends(text, last):
        if end <= b or end - b > 2 or any(b < k < end for k in hard) or text[b] in _PARTICLES:
            continue
        if (end >= len(text) or end in hard or not textview.is_cjk(text[end])
                or text.startswith(TITLES, end)):
            best = end
    return best


def part_end(text: str, start: int) -> int | None:
    """End of a first name part at `start` that a dot mark follows (2-6 characters, at most one
    of them outside the transliteration set), or None."""
    for end in range(start + 2, min(start + _MAX_PART, len(text)) + 1):
        if end < len(text) and text[end] in ANY_DOTS and _part_ok(text[start:end]):
            return end
        if not textview.is_cjk(text[end - 1]):
            return None
    return None


def part_ends(text: str, start: int) -> list[int]:
    """Possible ends of a second name part at `start`, shortest first."""
    out = []
    for end in range(start + 2, min(start + _MAX_PART, len(text)) + 1):
        if not _part_ok(text[start:end]):
            if not all(textview.is_cjk(ch) for ch in text[start:end]):
                break
            continue
        out.append(end)
    return out


def find_dot_names(text: str) -> list[PiiMatch]:
    """Dotted names in `text`; spans in `text`, values folded without spaces."""
    view = textview.build(text)
    offs = view.offsets
    hard = frozenset(k for k in range(1, len(offs)) if offs[k] - offs[k - 1] > 2)
    # A role label's end bounds a name too (承办人签章 再努尔·依明: 章 is the label's).
    hard |= frozenset(m.end() for m in cues.cue_regex().finditer(view.text))
    out = []
    for a, b in dot_spans(view.text, hard):
        start, end = view.span(a, b)
        out.append(PiiMatch("name", start, end, view.text[a:b]))
    # A row's shape fixes a dotted name's bounds where OCR read a dot as a colon the rule here
    # stops at (热合曼.古丽米拉:其其格|父| 1956…): the row's cell outranks the shorter reading.
    from indexer.row_names import find_row_names  # row_names builds on this module's marks
    rows = [r for r in find_row_names(text) if any(m.start < r.end and r.start < m.end for m in out)]
    return sorted([m for m in out if not any(r.start < m.end and m.start < r.end for r in rows)] + rows,
                  key=lambda m: m.start)


def _closes(text: str) -> frozenset[int]:
    """Where a dotted name's last part ends whatever the characters: a role label or form field
    starts (艾力·乌兰代收理由, 艾力·其其格登记日期) or a year in Chinese numerals (…如仙古丽二〇一七年,
    OCR's 二0一七): 代, 登, 二, 一 are transliteration characters too."""
    found = {m.start() for m in cues.cue_regex().finditer(text)}
    found |= {m.start() for m in _FIELD.finditer(text)}
    found |= {m.start() for m in _YEAR.finditer(text)}
    found |= {m.start() for m in cues.POST_CUE.finditer(text)}  # …努尔和他老婆: 和 is no part
    found |= {m.start() for m in PAGES.finditer(text)}  # 经办柜员其其格'古丽米拉共3页
    return frozenset(found)


_FIELD = re.compile("代收理由|登记日期|登记|日期|档号|备注|记录人|性别|出生|住址|联系电话|电话|身份证|户别|邮编")
PAGES = re.compile(r"共\s*\d{1,4}\s*[页份张卷]")
_YEAR = re.compile("[一二][〇○零Oo0九][〇○零Oo0一二三四五六七八九]{2}年?")


def dot_spans(text: str, hard: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """[start, end) of every dotted name in an already folded text (indexer.textview); a name
    never runs across `hard`, the view positions where the original had a wide gap, nor past
    the start of a label, a field or a year (_closes)."""
    dots = _DOTS + _OCR_DOTS
    closes = _closes(text)
    out = []
    for m in _DOT_NAME.finditer(text):
        a = m.start()
        # 其父玉素甫: a function word glued to the name; 其其格 is a name (a doubled character).
        while text[a] in _NOT_FIRST and text[a + 1] != text[a] and text[a + 2] not in dots:
            a += 1
        dot = next(k for k in range(m.start(), m.end()) if text[k] in dots)
        a = max([k for k in hard if a < k < dot - 1], default=a)  # 签章  艾力·乌兰: after the gap
        b = min([k for k in hard | closes if dot + 2 < k < m.end()], default=m.end())
        b = _misread_tail(text, dot, b, hard | closes)
        if b - a >= 5 and any(ch in dots for ch in text[a:b]):
            out.append((a, b))
    return out
