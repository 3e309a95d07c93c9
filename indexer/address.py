"""Find street-level addresses and say how much of one may stay visible.

An address is PII because of its detail (road and house number, village group, building and
room), not because it names a province or district: 籍贯 山东省济南市 and 北京市海淀区人民法院
are ordinary searchable text. So a match needs at least one named place (road, village,
compound …) directly followed by a numbered part (27号, 3组, 2号楼, 402室), and it then extends
over the administrative levels before it and the further numbered parts after it. Masking keeps
only the leading province / city / district-or-county levels (`admin_prefix_len`), which is
what lets a user still filter by place without seeing where a person lives.
"""
from __future__ import annotations

import re

from indexer import textview
from indexer.address_edges import ADMIN_NAME as _ADMIN_NAME
from indexer.address_edges import NOT_SUFFIX as _NOT_SUFFIX
from indexer.address_edges import PROVINCE
from indexer.address_edges import STOP as _STOP
from indexer.address_edges import garbled_tail_end, misread_branch_end, start_of
from indexer.pii import PiiMatch

__all__ = ["admin_prefix_len", "find_addresses"]

_NAME = rf"[^\W\d_A-Za-z{_STOP}号]"
# A house or room number; OCR may split it with one space ("280 1室").
# OCR reads a 1 as ] or | inside a number (4]8号 for 418号).
# A lone 1 read as ] or | (24栋]单元632室) still numbers the part its suffix names.
# After a dash too (320-]号 for 320-1号).
# 第 opens the ordinal units of rural and corps addresses (第三生产队, 第八师, 第五管理区).
# A ] or | between a place and its unit is a lone 1 (小坪村]组, 花园]栋), before a number a
# leading 1 (四连]1号); 第 and marks before 师/团 an ordinal OCR lost the numeral of (第. :师).
_NUM = (r"(?:第?[甲乙丙丁]?(?:(?:(?<=[\u4e00-\u9fff])[\]|](?=\d))?[A-Za-z]?\d[\d\]|]{0,4}(?: ?\d{1,4})?"
        r"(?:[-—－][\d\]|]{1,5})?[A-Za-z]?"
        r"|[一二三四五六七八九十百零〇两]{1,6}"
        r"|(?<=[\u4e00-\u9fff])[\]|](?=单元|门|层|楼|室|栋|幢|座|组|队|连))"
        r"|第[.:：,，·\-—~'“” ]{1,4}(?=师|团))")
_ADMIN_SUFFIX = r"(?:特别行政区|自治区|自治州|自治县|地区|新区|省|市|盟|区|县|旗)"
_PLACE_SUFFIX = (
    r"(?:街道办事处|街道|人民公社|生产建设兵团|公社|生产大队|大队|农场|林场|牧场|兵团|"
    r"镇|乡|大街|大道|路|街|巷|胡同|弄|里|村委会|村|屯|社区|居委会|小区|"
    r"花园|公寓|大厦|家园|新村|广场|宿舍|苑|园|院|庄|坊|湾|营"
    # a state farm's 农 misread (東風衣場第八管理區) if an ordinal or a number follows
    r"|(?<=[\u4e00-\u9fff])(?<![现会到在当考赛战剧立])场(?=第|[一二三四五六七八九十\d])"
    # the last character of a long unit word misread (新疆生产建设兵田第八师…, 红星人民公杜3队)
    r"|(?:生产建设兵|人民公|生产大|街道办事)[\u4e00-\u9fff])"
)
# 12号乙, 222号甲院; 5号附3号 (an annex numbered off the house), 129号之9 (Guangdong's sub-number).
# 生产队, 管理区, 团, 连, 师: the numbered units of communes, state farms and the 兵团.
# 附7号 with its 号 misread (246号附7避楼泰小区…): any character but a stop or a word, if the
# chain goes on with a place name.
_ANNEX_GARBLED = rf"[\u4e00-\u9fff](?<![{_NOT_SUFFIX}{_STOP}])(?=[\u4e00-\u9fff])"
# 单元 with its 元 misread (6单郊2407室) if a number follows; 之一 with its 一 read as a mark (28号之“礼德
# 伦园3栋); a speck read as a character before a house number's 号 (14組58上號).
_ANNEX_ONE = "“”\"\\-—~_"
_DETAIL_SUFFIX = (r"(?:号院|号楼|号|支弄|弄|巷|栋|幢|座|单元|单[\u4e00-\u9fff](?=\d)|门|层|楼|室|房|户|组|生产队"
                  r"|队|社|管理区|团|连|师|(?<=\d)[\u4e00-\u9fff](?<![号之附单])号)"
                  rf"(?:[甲乙丙丁](?:院|楼)?|(?<=号)(?:附(?:\d{{1,4}}|[?？\]|])(?:号|{_ANNEX_GARBLED})"
                  rf"|之(?:[\d一二三四五六七八九十]{{1,3}}|[{_ANNEX_ONE}])(?![栋幢座单元门层楼室号]))院?)?")
# The first character of the next field's label is no misread suffix (…12-3-1204 电话: the room
# number closes the address, the label follows).
_NEXT_LABEL = (r"(?!电话|電話|联系|聯繫|职业|職業|身份|户主|戶主|性别|性別|邮编|郵編|工作单位|文化程度"
               r"|手机|手機|籍贯|民族|出生|姓名|关系|婚姻|学历|备注|宗教|政治面貌|与户主|户号|邮箱)")
_GARBLED = rf"{_NEXT_LABEL}[\u4e00-\u9fff](?<![{_NOT_SUFFIX}])(?:[\u4e00-\u9fff](?=\d))?"
_ADMIN = rf"{_NAME}{{1,8}}?{_ADMIN_SUFFIX}"
# A speck OCR read as a mark inside a road's name (園展-路252號, 五道[一路) does not end the name.
_SPECK = r"(?<=[\u4e00-\u9fff])(?:[-~'.·\[\]](?=[\u4e00-\u9fff])|[“”\"](?=[路街巷道里]))"
_PLACE = rf"(?:{_NAME}|{_SPECK}){{1,10}}?{_PLACE_SUFFIX}(?:[东西南北中]段|[东西南北中](?=[甲乙丙丁]?\d))?"
# Between two numbered parts the suffix may be misread as any character (9本2单元 for 9栋2单元)
# or as one or two marks (7y)302室, 5 ]1201室 for 7号302室, 5门1201室): the next number and
# its suffix say a numbered part ended there.
# (A lone dash is no junk: 2020-05-12 is a date, 12-3-1204 a dashed unit of its own.)
# Two marks with a space between (3| ]194號, 3f J512鬧) are as much one misread suffix; a lone
# dot is a number's own separator (25号 191.6384.4761: the phone in the next cell).
_MARK = r"[^\s\d\u4e00-\u9fff，。；：、,;:]"
_JUNK = rf" ?(?![-—－.·]\d)(?:{_MARK}{{1,2}}|{_MARK} {_MARK}) ?(?=\d)"
# Building, unit and room written as one dashed number (阳光小区12-3-1204): a whole part.
# OCR may put a space after a dash (28-5- 2433); the room's own 室 or 号 belongs to it.
_DASHED_UNIT = r"\d{1,3}[-—－] ?\d{1,2}[-—－] ?\d{2,5}(?![\d\-—－])(?:室|号)?"
_DETAIL = (rf"(?:{_DASHED_UNIT}|{_NUM}(?:{_DETAIL_SUFFIX}|(?<=\d){_GARBLED}|(?<=\d){_JUNK}"
           rf"|(?<=\d)[\u4e00-\u9fff](?={_NUM}{_DETAIL_SUFFIX})"
           # after a number in Chinese numerals too, if the character is no measure word
           # (一三三团八因69号 for 八连69号, 一四八朵五连 for 一四八团五连)
           rf"|(?<=[一二三四五六七八九十〇零])[\u4e00-\u9fff](?<![{_NOT_SUFFIX}])(?={_NUM}{_DETAIL_SUFFIX})))")
# Admin levels, then at least one named place followed by numbered parts; places and numbers may
# alternate (…村3组15号, …小区2号楼3单元402室, …路88号院2号楼).
# After an administrative level, OCR may garble the road's own suffix too (延安南侍74号 for
# 延安南路, 建设衛術520弄): a short name ending in any character, then a number with a real
# detail suffix, still is a road and a house number. Between two numbered parts, up to two
# garbled characters stand for the place or suffix OCR lost (258号际4号楼).
# Offices and ordinals are no roads: 公安局第3号令, 本市共有3号.
_NOT_ROAD = "第共有令局厅委办部所科处院校司会府"
_ROAD_NAME = rf"[^\W\d_A-Za-z{_STOP}号{_NOT_ROAD}]"
# The house number's own suffix may be misread too (漠溪大迫645卉14號: 大道645号14号), if the
# next numbered part has a real one.
# 府 opens road names (府学街, 府前路) though it ends offices (市政府3号文).
_GARBLED_PLACE = (rf"(?:府|{_ROAD_NAME}){_ROAD_NAME}{{1,6}}?"
                  rf"(?=[甲乙丙丁]?\d{{1,5}}(?:[-—－]\d{{1,5}})?"
                  rf"(?:[\u4e00-\u9fff](?<![{_NOT_SUFFIX}])\d[\d\]|]{{0,4}})?{_DETAIL_SUFFIX})")
_NAMED_ADMIN = rf"{_NAME}{{2,8}}?{_ADMIN_SUFFIX}"
# After a numbered part, the name of a compound or building may hold any character but the
# few connectives that start a new clause (…8号从善苑12幢: 从 is part of the name here), as
# long as a numbered part follows it (not a label and a phone: …室联系方式180-…).
_LINK_NOT = "的和与及或是为于在到至往"
_NUMBERED_NEXT = rf"(?={_NUM}(?:[\u4e00-\u9fff]{_NUM})?{_DETAIL_SUFFIX}|{_DASHED_UNIT})"
# Past its first character the name may hold a word of place (府前苑, OCR's 府前范20栋, 桂花里小多29栋).
# The corps' chain resumes after a unit OCR garbled: a 连 whose numeral was lost right after the
# 团 (一四八團連8號), or up to five garbled characters after a 师/团/公社/大队 before the next
# numbered unit and its house number (第六师刀二四全-十连73号).
_RESUMED_UNIT = r"[一二三四五六七八九十\d]{1,3}(?:连|队|生产队|组)\d{1,4}[\u4e00-\u9fff]"
_LINK = (rf"(?:{_PLACE}|(?:(?<=[号弄栋幢座元门层楼室甲乙丙丁])|(?<=\d[\u4e00-\u9fff])|(?<=之[{_ANNEX_ONE}]))"
         rf"[^\W\d_A-Za-z{_LINK_NOT}{_NOT_SUFFIX}][^\W\d_A-Za-z{_LINK_NOT}]{{0,4}}{_NUMBERED_NEXT}"
         rf"|(?<=[团师场])(?:连|队)(?=\d)"
         rf"|(?<=[师团社队])[^\d\s，。；：、,;:{_STOP}]{{1,5}}?(?={_RESUMED_UNIT}))")
# After a place, up to six characters OCR garbled beyond reading (红星农场第- -管理12队42号 for
# 第一管理区) are still the address if two numbered parts follow them.
_LOST_PART = (rf"(?:{_NEXT_LABEL}[^\d\n，。；：、,;:{_STOP}]){{1,6}}?"
              rf"(?=\d{{1,5}}{_DETAIL_SUFFIX}\d{{1,5}}{_DETAIL_SUFFIX})")
_ADDRESS = re.compile(
    rf"(?:(?:{_ADMIN}){{0,4}}(?:{_PLACE}){{1,3}}(?:{_LOST_PART})?|(?:{_NAMED_ADMIN}){{1,4}}{_GARBLED_PLACE}"
    # a chain of numbered units right after the city (石河子市一四三团十二连45号)
    rf"|(?:{_NAMED_ADMIN}){{1,4}}(?:(?: ?[.:：\-—~'“”\"]){{1,3}} ?(?=[一二三四五六七八九十]))?"
    rf"(?=(?:{_NUM}{_DETAIL_SUFFIX}){{2}}))"
    rf"{_DETAIL}(?:(?:{_LINK})?{_DETAIL}){{0,5}}"
)
_MAX_LEN = 60
# A line padded with spaces before its break ends a cell (…溪凰家园2-6-1646  ⏎177587347: the
# next line's phone); folding would join the digits into one number (a narrow cell's wrap,
# 红旗街1⏎51号之一, has no padding). Replaced by a mark of the same length, so
# that offsets stay the text's.
_DIGITS_ACROSS_LINES = re.compile(r"(?<=\d)[ \t\u3000]{2,}\r?\n(?=[ \t\u3000]*\d)")


def _keep_apart(m: re.Match[str]) -> str:
    return m.group().replace("\r", "\x1f").replace("\n", "\x1f")


# A corps division alone (新疆生产建设兵团第一师阿拉尔市) is a city-level unit, no address.
_DIVISION_ONLY = re.compile(r"^[^\d]*兵团第?[一二三四五六七八九十\d]{1,3}师$")

_PROVINCE = PROVINCE
_CITY = rf"{_ADMIN_NAME}{{2,6}}?(?:自治州|地区|盟|市)"
_COUNTY = rf"{_ADMIN_NAME}{{1,5}}?(?:自治县|新区|区|县|旗|市)"
_PREFIX = re.compile(rf"(?P<prov>{_PROVINCE})?(?P<city>{_CITY})?(?P<county>{_COUNTY})?")
# Things called 区 that are below county level: showing them would narrow the address down.
_NOT_COUNTY = ("小区", "社区", "园区", "景区", "校区", "厂区", "矿区", "营区", "库区", "片区",
               "街区", "生活区", "住宅区", "开发区", "工业区")


def admin_prefix_len(value: str) -> int:
    """Length of the leading province/city/district-or-county part of an address value.

    Conservative by design: anything not clearly an administrative level is left to the mask,
    since showing too little costs a user a click and showing too much leaks a home.
    """
    m = _PREFIX.match(value)
    if m is None:
        return 0
    end = m.end()
    county = m.group("county")
    if county and (county.endswith(_NOT_COUNTY)
                   or (not m.group("prov") and not m.group("city") and len(county) > 4)):
        end = m.start("county")
    return end if end < len(value) else 0


def find_addresses(text: str) -> list[PiiMatch]:
    """Addresses in `text`; spans in `text`, values folded and without OCR spaces."""
    view = textview.build(_DIGITS_ACROSS_LINES.sub(_keep_apart, text), join_lines=True)
    gaps = _cell_gaps(text, view)
    out = []
    for m in _ADDRESS.finditer(view.text):
        if m.end() - m.start() > _MAX_LEN or _DIVISION_ONLY.search(m.group()):
            continue
        begin, stop = _within_cell(view.text, m.start(), m.end(), gaps)
        if stop not in gaps:
            tail = misread_branch_end(view.text, stop, view.breaks)
            stop = tail if tail != stop else garbled_tail_end(view.text, stop, view.breaks)
        if begin not in gaps:
            begin = start_of(view.text, begin, stop, view.breaks)
        start, end = view.span(begin, stop)
        out.append(PiiMatch("address", start, end, view.text[begin:stop]))
    return out




def _cell_gaps(text: str, view: textview.FoldedView) -> frozenset[int]:
    """View positions where the folding dropped two or more spaces of one line, or a line break
    after such padding: a printed form's or table's cell boundary (…高庄村9组11号  157 3979…,
    25岁  新昌县…, …8队9號  ⏎157…). OCR re-joins a line with single spaces, so inside an
    address such a gap does not occur; a narrow cell's wrap (天河区竹⏎公里) has no padding."""
    offs = view.offsets
    gaps = set()
    for i in range(1, len(offs)):
        if offs[i] - offs[i - 1] > 2:
            dropped = text[offs[i - 1] + 1:offs[i]]
            line = dropped.split("\n")[0].rstrip("\r") if "\n" in dropped else dropped
            if len(line) >= 2:
                gaps.add(i)
    return frozenset(gaps)


def _within_cell(text: str, begin: int, end: int, gaps: frozenset[int]) -> tuple[int, int]:
    """The match cut to the cell it starts in: at a cell gap inside it, the part before is the
    address if it is one on its own; otherwise the part after is, if it is one."""
    inside = sorted(g for g in gaps if begin < g < end)
    for g in inside:
        if _ADDRESS.fullmatch(text, begin, g):
            return begin, g
    for g in reversed(inside):
        if _ADDRESS.fullmatch(text, g, end):
            return g, end
    return begin, end
