"""OCR rules for addresses: tails, suffixes and administrative chains OCR cut or garbled.

Each case is a line as the product's OCR read it where an address stayed readable (or was cut
short) before the rule; each failure names the value. Fast unit tests, no services.
"""
from __future__ import annotations

import pytest

from tests.pii_ocr_check import assert_found, spans


@pytest.mark.parametrize("text, value", [
    ("住湖北省武汉市江岸区曹杨北街213号附3号。", "湖北省武汉市江岸区曹杨北街213号附3号"),
    ("住址:芙蓉区前西北路167号附8号院11号楼5门319号\n（1）姓名", "芙蓉区前西北路167号附8号院11号楼5门319号"),
    ("住\n重庆市渝中区德香南巷299号之5紫荆家园32栋3单元460室。\n本院",
     "重庆市渝中区德香南巷299号之5紫荆家园32栋3单元460室"),
    ("住江西省南昌市东湖区岭昌西路137号之4。", "江西省南昌市东湖区岭昌西路137号之4"),
    ("住解放横街821弄16支弄22号，", "解放横街821弄16支弄22号"),
    ("现住址 杏府胡同46巷38号  联系方式", "杏府胡同46巷38号"),
])
def test_annex_sub_number_lane_and_branch_lane(text: str, value: str) -> None:
    assert_found(text, "address", value)


@pytest.mark.parametrize("text, value", [
    ("原住址:湖北省武汉市江岸区浅溪路277号由\n恩往地址:河南省", "湖北省武汉市江岸区浅溪路277号由"),
    ("他住江岸區演河裏342號申,我們", "江岸區演河裏342號申"),
    ("住址”陕西省西安市新城区天\n坛二路176号两\n公民身份号码", "陕西省西安市新城区天\n坛二路176号两"),
])
def test_misread_branch_character_after_the_house_number(text: str, value: str) -> None:
    assert_found(text, "address", value)


def test_branch_rule_does_not_swallow_the_next_word() -> None:
    assert spans("住建设路12号中学", "address") == ["建设路12号"]


@pytest.mark.parametrize("text, value", [
    ("新疆維吾爾自治區喀什地區喀什市漠溪大迫645卉14號1176室;其母",
     "新疆維吾爾自治區喀什地區喀什市漠溪大迫645卉14號1176室"),
    ("現住址新疆维吾尔自治区乌鲁木齐市天山区劳动南埠48巷77号联系方式", "新疆维吾尔自治区乌鲁木齐市天山区劳动南埠48巷77号"),
])
def test_misread_road_and_house_number_suffixes(text: str, value: str) -> None:
    assert_found(text, "address", value)


def test_nothing_glued_before_a_province_belongs_to_the_address() -> None:
    text = "被告:类然念，男，作\n新疆维吾泵自治区岛便木讲市天山区湖礼街23号喜桃新村31栋3单元1045室，\n電話"
    assert_found(text, "address", "新疆维吾泵自治区岛便木讲市天山区湖礼街23号喜桃新村31栋3单元1045室")


@pytest.mark.parametrize("text, value", [
    ("答:認識,他住上海市浦東新區松江街13號敗,我們2017年", "上海市浦東新區松江街13號敗"),
    ("住\n江苏省南京市玄武区瑞杨横街95号银杏公寓24栋]单元632室;其母", "江苏省南京市玄武区瑞杨横街95号银杏公寓24栋]单元632室"),
])
def test_misread_branch_and_lone_one_in_address(text: str, value: str) -> None:
    assert_found(text, "address", value)


def test_place_word_after_house_number_is_not_the_branch() -> None:
    assert spans("住建设路12号旁，", "address") == ["建设路12号"]


def test_sub_number_before_a_compound() -> None:
    text = "住北京市朝陽區祥福一路46號之7院9號樓5門385號,\n電話"
    assert_found(text, "address", "北京市朝陽區祥福一路46號之7院9號樓5門385號")


def test_sub_number_does_not_take_the_next_building_number() -> None:
    text = "住黑龍江省哈爾濱市道里區石公街72號之42棟2單元1樓3號；其母"
    assert_found(text, "address", "黑龍江省哈爾濱市道里區石公街72號之42棟2單元1樓3號")


@pytest.mark.parametrize("text, value", [
    ("住\n北京市西城區從和街928弄4號239室。\n委托", "北京市西城區從和街928弄4號239室"),  # 从 opens the road
    ("迁往地址:廣東省深圳市福由區興鐘橫街255號\n迁移", "廣東省深圳市福由區興鐘橫街255號"),  # 田 read 由
    ("作\n宁夏回族自治區銀川市位慶區紅旗北街313號橋利小區8棟2單元2006室。\n本院",
     "宁夏回族自治區銀川市位慶區紅旗北街313號橋利小區8棟2單元2006室"),  # 兴 read 位
    ("迁往地址北京市仙到区朝阳门巷45号院6号楼3号\n迁移", "北京市仙到区朝阳门巷45号院6号楼3号"),
    ("，住历下区青年一路320-]号\n本院", "历下区青年一路320-]号"),  # ] for 1 after a dash
    ("家庭住址:黑龙江省哈尔滨市道里区秋中二路150号府前范20栋1单元2304室\n联系",
     "黑龙江省哈尔滨市道里区秋中二路150号府前范20栋1单元2304室"),  # 府前苑 read 府前范
    ("原住址:玄武區盛府大街320號府前郊21棕2單元2236室\n迁往", "玄武區盛府大街320號府前郊21棕2單元2236室"),
    ("1974年生,佳西湖區延安支路113號之7。\n委", "西湖區延安支路113號之7"),  # 住 read 佳: no part
    ("原住址上上海市浦东新区关庙镇黄铺村9组24号\n迁往", "上上海市浦东新区关庙镇黄铺村9组24号"),  # doubled
])
def test_addresses_ocr_cut_or_garbled(text: str, value: str) -> None:
    assert_found(text, "address", value)


@pytest.mark.parametrize("text, value", [
    ("籍贯上海市，现住徐汇区田林路88号", "徐汇区田林路88号"),  # a clause stop does not join
    ("北京市海淀区人民法院在中关村大街1号", "中关村大街1号"),
])
def test_admin_chain_not_joined_across_a_clause(text: str, value: str) -> None:
    assert spans(text, "address") == [value], f"address grew over a clause: {spans(text, 'address')}"


# --- dettext: what the dev seeds 3301 and 4409 still leaked ----------------------------------

@pytest.mark.parametrize("text, value", [
    # 号 read as 与 closing the field (与 is a connective only when a noun follows)
    ("怡，女，2006年生，住北京市丰台区关庙镇东坪村九组49与。\n委托", "北京市丰台区关庙镇东坪村九组49与"),
    ("住湖南省长沙市关苦区邦梅路353导7栋4单元4楼2与;其和母", "湖南省长沙市关苦区邦梅路353导7栋4单元4楼2与"),
    # 室 dropped after the room number at the line end
    ("住址”河北省石家庄市长安区\n武前支路甲343号宁\n鼓苑23栋6单元61\n公民身份號",
     "河北省石家庄市长安区\n武前支路甲343号宁\n鼓苑23栋6单元61"),
    # the road's suffix garbled, then a number with ] for 1 before the real 号
    ("户主姓名:路温仰”住址:道里区园街南埠58埠6]号\n(1)姓名:路温仰", "道里区园街南埠58埠6]号"),
    # a speck read as a hyphen inside the road's name
    ("被告:邵曉海,男,住北京市東城區園展-路252號附12號,\n电话136", "北京市東城區園展-路252號附12號"),
])
def test_garbled_or_dropped_tail_of_the_last_numbered_part(text: str, value: str) -> None:
    assert_found(text, "address", value)


@pytest.mark.parametrize("text, value", [
    ("住北京市海淀区学院路3号楼5单元 2019年迁入", "北京市海淀区学院路3号楼5单元"),
    ("住建设路12号，家中共4人。", "建设路12号"),
    ("住人民路5号楼3单元12人。", "人民路5号楼3单元"),
])
def test_tail_rule_leaves_years_and_counts(text: str, value: str) -> None:
    assert spans(text, "address") == [value]


@pytest.mark.parametrize("text, value", [
    # ] for 1 after a branch character, before the building
    ("住重庆市渝中区北土城二路87号丙]栋3单元8楼4号。\n联系电话", "重庆市渝中区北土城二路87号丙]栋3单元8楼4号"),
    # the annex number misread as ?
    ("家庭住址重庆市渝中区紫荆北街313号附?号\n联系方式", "重庆市渝中区紫荆北街313号附?号"),
    # a garbled road name that starts with 府 (府学街)
    ("住福建省福州市鼓樓區府學征征24巷13號,\n電話", "福建省福州市鼓樓區府學征征24巷13號"),
    # a stop character inside the district's own name, nothing of the chain before it
    ("6511115113,住笑從區迎賓支路790弄42號910室。\n联系电话", "笑從區迎賓支路790弄42號910室"),
    ("住址:福由区迎宾路3号", "福由区迎宾路3号"),
])
def test_misread_branch_annex_road_head_and_district(text: str, value: str) -> None:
    assert_found(text, "address", value)


@pytest.mark.parametrize("text, value", [("根据市政府3号文件", None), ("户籍在从区迎宾路79号", "区迎宾路79号")])
def test_office_numbers_and_clause_words_stay_outside(text: str, value: str | None) -> None:
    assert spans(text, "address") == ([value] if value else [])


# --- dettext: the merged generator (redgen) seed 2213 --------------------------------------

@pytest.mark.parametrize("text, value", [
    ("住址 平輿縣紅星人民公社李家灣大隊第七生產隊   戶主 黃傑平", "平輿縣紅星人民公社李家灣大隊第七生產隊"),
    ("住址新疆生產建設兵團第八師一三三團八連69號\n关系", "新疆生產建設兵團第八師一三三團八連69號"),
    ("住新疆维吾尔自治区石河子市一四三团5连12号。", "新疆维吾尔自治区石河子市一四三团5连12号"),
    ("住海南省南田农场第八管理区23队26号，\n公民身份号码", "海南省南田农场第八管理区23队26号"),
    ("家庭住址 湖南省長沙市芙蓉區榆德大街312號金秋園20-6-2571\n反映問題", "湖南省長沙市芙蓉區榆德大街312號金秋園20-6-2571"),
    ("現住址北京市朝陽區演河南路甲121號祥安新村1-5-1869手机0086", "北京市朝陽區演河南路甲121號祥安新村1-5-1869"),
])
def test_commune_corps_farm_and_dashed_unit_addresses(text: str, value: str) -> None:
    assert_found(text, "address", value)


@pytest.mark.parametrize("text, value", [
    ("住址：海淀区学院路3号阳光小区12-3-1204职业：工人", "海淀区学院路3号阳光小区12-3-1204"),
    ("住阳光小区2020-05-12迁入", None),  # a date is no dashed unit
    ("上海市第一中学", None),
])
def test_next_label_and_dates_are_not_address_parts(text: str, value: str | None) -> None:
    assert spans(text, "address") == ([value] if value else [])
