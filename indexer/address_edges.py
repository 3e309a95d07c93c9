"""Where an address found by indexer.address really starts and ends on OCR'd or printed text.

The address pattern finds the core of an address (named places and numbered parts); OCR leaves
its edges uncertain: a label's misread character glued before the province, a district name a
stop character cut, a 甲/乙 or a house number's suffix misread after the last part. These rules
move the two edges; they live apart from the pattern so that each stays small.
"""
from __future__ import annotations

import re

from indexer import textview

__all__ = ["ADMIN_NAME", "NOT_SUFFIX", "STOP", "garbled_tail_end", "misread_branch_end", "start_of"]

# Characters that never occur inside a place name but often right before one (住址：…,
# 现居…, 迁往…, 由…迁入, 位于…): they bound a match on the left.
STOP = "住址为于在是的到从由迁往入居现系至经将把被对等及位处称我你他她其该"
# OCR misreads the suffix of a house number (号 as 弓 or 亏, 室 as 窒, 弄 as 丟, 单元 as 单兀): after
# a named place and an Arabic number, any CJK character that is not a unit, a time or a connective
# ("中山路3公里", "解放路2年来", "乘2路") stands for the suffix it replaced.
NOT_SUFFIX = ("公米千万百十年月日天周时分秒点岁次个位名人条辆路趟班期届项件份页张本元角块倍"
               "至到和与及或等的之在是为了而且也都又向往左右前后上下内外旁边侧对面附近处东西南北")
ADMIN_NAME = rf"[^\W\d_A-Za-z{STOP}路街村巷镇乡号楼]"


# The first characters of every province-level name: an address starts there, so one or two
# characters glued before it are a misread 住 or label (作⏎新疆…, 佳北京市…), not the address.
_PROVINCE_HEADS = frozenset(
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 "
    "广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙 广西 西藏 宁夏 新疆 香港 澳门".split())


PROVINCE = (
    r"(?:北京|天津|上海|重庆)市?|(?:河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|"
    r"河南|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾)省|内蒙古自治区|"
    r"广西壮族自治区|西藏自治区|宁夏回族自治区|新疆维吾尔自治区|(?:香港|澳门)特别行政区"
)
_WHOLE_PROVINCE = re.compile(rf"(?:{PROVINCE})(?!路|街|道|巷)")


def _province_start(text: str, start: int, end: int) -> int:
    for k in (1, 2, 3):
        # OCR's doubled first character (上上海市) is the address's own, not a label. Three
        # characters (日⏎储千天津市: a date's end and a misread 住址) only before a whole
        # province-level name, not a road named after one (南昌市江西路).
        if start + k + 4 <= end and text[start + k:start + k + 2] in _PROVINCE_HEADS \
                and text[start:start + 2] not in _PROVINCE_HEADS and text[start + k - 1] != text[start + k] \
                and (k < 3 or _WHOLE_PROVINCE.match(text, start + k)):
            return start + k
    if (text[start] in _LIKE_ZHU and start + 3 < end and (start == 0 or not textview.is_cjk(text[start - 1])
                                                         or text[start - 1] == "生")
            and _COUNTY_HEAD.match(text, start + 1)):
        return start + 1  # ，佳西湖区…: 住 misread, then a district
    return start


# 住 as OCR misreads it before an address (佳, 注, 柱, 仕, 作): after a comma or 年生 and before a
# district it is the label, not the place.
_LIKE_ZHU = frozenset("佳注柱仕作")
_COUNTY_HEAD = re.compile(rf"{ADMIN_NAME}{{1,4}}?(?:区|县|市|旗)")
# An administrative chain right before a match that a stop character cut off (福由区 for 福田区,
# 银川市位庆区 for 兴庆区, 西城区从和街: the road's own name): the chain, the one or two characters
# and the match are one address. Stop characters that open a clause (住, 在, 是 …) do not join.
_CHAIN = rf"(?:{ADMIN_NAME}{{1,8}}?(?:省|自治区|市|区|县|旗))+"
_CHAIN_BEFORE = re.compile(rf"({_CHAIN})([^\W\d_A-Za-z住址居现迁往在是的为到系]{{1,2}})$")
_CUT_DISTRICT = re.compile(rf"{_CHAIN}[^\W\d_A-Za-z]{{1,2}}$")
_ADMIN_END = frozenset("区县市旗")
_CITY_HEAD = re.compile(rf"{ADMIN_NAME}{{2,6}}?(?:自治州|地区|盟|市)")


def _admin_start(text: str, begin: int) -> int:
    if begin == 0 or not textview.is_cjk(text[begin - 1]):
        return begin
    if text[begin] in _ADMIN_END or text[begin + 1:begin + 2] in _ADMIN_END:
        # the match starts inside a district name (福由|区, 银川市位|庆区)
        m = _CUT_DISTRICT.search(text, max(0, begin - 24), begin)
    elif text[begin:begin + 2] in _PROVINCE_HEADS or _CITY_HEAD.match(text, begin):
        return begin  # a whole address of its own (…市由江苏省南京市…迁入: 由 is the preposition)
    else:  # or a stop character cut the road's name after a district (西城区从|和街)
        m = _CHAIN_BEFORE.search(text, max(0, begin - 24), begin)
        if m is None or not any(ch in STOP for ch in m.group(2)) or not (
                m.group(1)[-1] in "区县旗" or _county_cut_after_city(text, m, begin)):
            m = None
    if m is None and text[begin] in _ADMIN_END:
        return _cut_name_start(text, begin)
    if m is None and text[begin + 1:begin + 2] in _ADMIN_END and text[begin - 1] in _COUNTY_HEAD_STOPS:
        return begin - 1  # 迁入于|都县…: a one-character name is no county, 于 began it
    return m.start() if m is not None else begin


# After a province and a city, 于, 将 or 从 and no district of its own: the county's name began
# with it (江西省赣州市于都县, OCR's 于都租演河西路: the county suffix misread too; 将乐县, 从化区).
# 由, 从, 经 … there are prepositions (山东省济南市由锦绣花园…迁入).
_COUNTY_HEAD_STOPS = frozenset("于将从")


def _county_cut_after_city(text: str, m: re.Match[str], begin: int) -> bool:
    chain = m.group(1)
    return (chain[-1] == "市" and ("省" in chain or "自治区" in chain) and m.group(2) in _COUNTY_HEAD_STOPS
            and not _COUNTY_HEAD.match(text, begin))


# A district's own name a stop character cut (住笑从区迎宾支路…: 从 misread or part of the name),
# with nothing of the chain before it: one or two characters back to the label or punctuation.
_OPENS_CLAUSE = frozenset("住址居现迁往在是的为到系")


def _cut_name_start(text: str, begin: int) -> int:
    k = begin
    while k > max(0, begin - 2) and textview.is_cjk(text[k - 1]) and text[k - 1] not in _OPENS_CLAUSE:
        k -= 1
    if k < begin and (k == 0 or not textview.is_cjk(text[k - 1]) or text[k - 1] in "住址"):
        return k
    return begin


# 甲/乙/丙 after a house number as OCR reads them (277号由, 342號申, 12号Z): one such character
# closing the field (line end, punctuation, a gap) is the branch number, not the next word.
_BRANCH_MISREAD = frozenset("甲乙丙由申田电中Z2己L内两")


def misread_branch_end(text: str, end: int, breaks: frozenset[int]) -> int:
    """End of an address that OCR left with a misread 甲/乙 after its last 号: a look-alike, or
    any character that is no unit or word of place (旁, 处, 内 …) closing the field (13號敗,)."""
    if end >= len(text) or text[end - 1] != "号":
        return end
    if text[end] not in _BRANCH_MISREAD and not (
            "\u4e00" <= text[end] <= "\u9fff" and text[end] not in NOT_SUFFIX + STOP):
        return end
    after = end + 1
    if (after >= len(text) or after in breaks or text[after].isspace()
            or not (textview.is_cjk(text[after]) or text[after].isalnum())):
        return after
    return end


# The last numbered part of an address whose suffix OCR garbled into a character that is no
# unit (九组49与。 for 49号, 4楼2与; for 2室) or dropped (6单元61 at the line end for 61室): a number
# right after the chain, then one character, then the end of the field, is that part. Only a
# measure word or a word of position (49人, 3年, 2楼下) is read as what it says.
_MEASURE = "公米千万百十年月日天周时分秒点岁次个位名人条辆路趟班期届项件份页张本元角块倍"
_POSITION = "左右前后上下内外旁边侧对面附近处东西南北"
_TAIL_NUM = re.compile(r"[甲乙丙丁]?\d{1,5}(?:[-—－]\d{1,5})?")
# After these suffixes a bare number closing the field is the next part (单元61⏎: the room;
# 10組46⏎: the house number of a village group or a corps company).
_ROOM_BEFORE = ("单元", "单兀", "栋", "幢", "楼", "座", "门", "组", "队", "连")


_UNIT_END = frozenset("号组队室栋幢单元楼")


def _field_closed(text: str, pos: int, breaks: frozenset[int]) -> bool:
    return (pos >= len(text) or pos in breaks or text[pos].isspace()
            or not (textview.is_cjk(text[pos]) or text[pos].isalnum()))


def garbled_tail_end(text: str, end: int, breaks: frozenset[int]) -> int:
    m = _TAIL_NUM.match(text, end)
    if m is None or end in breaks:
        return end
    after = m.end()
    if (after < len(text) and textview.is_cjk(text[after]) and text[after] not in _MEASURE + _POSITION
            and after not in breaks and _field_closed(text, after + 1, breaks)):
        return after + 1
    if (text[after:after + 1] == "。" and text[end - 1] in _UNIT_END and after + 1 not in breaks
            and after + 1 < len(text) and _field_closed(text, after + 1, breaks)
            and not text[after + 1].isspace()):
        return after + 1  # 十一组92。，: the house number's 号 read as a full stop before more marks
    if text[:end].endswith(_ROOM_BEFORE) and _field_closed(text, after, breaks):
        return after
    return end


# OCR reads the colon after 住址 as a connective (家庭住址和宁梧…): not the address's.
_LABEL_ENDS = ("住址", "地址", "住所")
_MISREAD_COLON = frozenset("和与及")
_MAX_BACK = 14
_AGE_BEFORE = re.compile(r"(?:周岁|岁|年生|年|月|日)(?=[\u4e00-\u9fff])")


def _garbled_head_start(text: str, begin: int, breaks: frozenset[int]) -> int:
    """A province name a few characters before the match, with the chain between garbled or cut
    by a stop character (新疆维癌备昕治攻在河子市…, 歷下區是吳綻街道…): where the field opens
    (a line break, a cell's rule, punctuation, 住/址) and a province-level name starts, the
    address starts."""
    if text[begin:begin + 2] in _PROVINCE_HEADS:
        return begin
    p = begin - 1
    while p >= max(0, begin - _MAX_BACK) and textview.is_cjk(text[p]):
        if (text[p:p + 2] in _PROVINCE_HEADS and begin - p >= 3
                and (p == 0 or p in breaks or not textview.is_cjk(text[p - 1]) or text[p - 1] in "住址")):
            return p if _chain_cut(text, p, begin) else begin
        p -= 1
    return begin


_ADMIN_CHAR = frozenset("省市区县旗")


def _chain_cut(text: str, p: int, begin: int) -> bool:
    """Whether text[p:begin] is an administrative chain OCR garbled, not a clause: at most three
    characters after its last level (歷下區是|, 保定市徐水其|: 区 misread), or, with no level read at all, a short garbled
    province before the match's own city or county (新疆维癌备昕治攻在|河子市). An organisation
    after the chain (北京市海淀区人民法院在|中关村大街) is no part of the address."""
    stretch = text[p:begin]
    last = max((i for i, ch in enumerate(stretch) if ch in _ADMIN_CHAR), default=-1)
    if last >= 0:
        return len(stretch) - last - 1 <= 3
    return len(stretch) <= 10 and bool(_CITY_HEAD.match(text, begin) or _COUNTY_HEAD.match(text, begin))


def start_of(text: str, start: int, end: int, breaks: frozenset[int] = frozenset()) -> int:
    """Where the address the pattern matched at [start, end) of the folded view really starts."""
    age = _AGE_BEFORE.match(text, start)
    if age and start > 0 and text[start - 1].isdigit():
        start = age.end()  # 37岁|新疆生产建设兵团…: a table row's age cell, joined by OCR
    if (text[start] in _MISREAD_COLON and text[max(0, start - 2):start] in _LABEL_ENDS
            and text[start:start + 2] != "和平"):  # 住址和平路5号: the road's own name
        return start + 1
    return _province_start(text, _garbled_head_start(text, _admin_start(text, start), breaks), end)
