"""Address chains OCR garbled or a form's layout cut (issue 8, requirement 2): one test per cause.

Each case is a line as the product's OCR or a printed form/table gave it (pages of tests/synth,
dev seeds 2213, 9121, 3301, 4409, 5502) where the address was left partly readable or masked
with the wrong boundaries before the rule; each failure names the value. Fast unit tests.
"""
from __future__ import annotations

import pytest

from tests.pii_ocr_check import assert_found, spans


def _exactly(text: str, value: str) -> None:
    got = spans(text, "address")
    assert got == [value], f"address {value!r} not masked exactly once (got {got}) in {text!r}"


@pytest.mark.parametrize("text, value", [
    ("|解燕遠|女| 85岁|山东省临沂市兰陵县民束一路246号附7避楼泰小区17栋2单元979室|\n191 0637",
     "山东省临沂市兰陵县民束一路246号附7避楼泰小区17栋2单元979室"),
    ("1978年生，住北京市西城区清溪南埠89号甲溪民家较22标5单元177室。\n委託",
     "北京市西城区清溪南埠89号甲溪民家较22标5单元177室"),
])
def test_annex_or_branch_then_a_garbled_compound_keeps_the_chain(text: str, value: str) -> None:
    _exactly(text, value)


@pytest.mark.parametrize("text, value", [
    ("住址新貓生產建設兵田第八師一三三團八因69號\n关系", "新貓生產建設兵田第八師一三三團八因69號"),
    ("現住新剖生產建設兵嶄第八師一四八朵五連35號,\n經審核", "新剖生產建設兵嶄第八師一四八朵五連35號"),
    ("送达地址黑龙江省北安市红里农场第- -管理12队42号\n送達文書", "黑龙江省北安市红里农场第- -管理12队42号"),
])
def test_corps_and_farm_units_garbled_mid_chain(text: str, value: str) -> None:
    _exactly(text, value)


def test_corps_division_alone_is_no_address() -> None:
    text = "1994年10月24日  出生地 新疆生产建设兵团第一师阿拉尔市\n公民身份号码"
    assert spans(text, "address") == [], "出生地 新疆生产建设兵团第一师 masked as an address"


@pytest.mark.parametrize("text, value", [
    ("尔逊  女  25岁  湖北省荆州市公安县马集乡高庄村9组11号  157 三九七九 7",
     "湖北省荆州市公安县马集乡高庄村9组11号"),
    ("王五  男  35岁  新昌县城关镇东街12号  农民", "新昌县城关镇东街12号"),
    ("蘭勇  女  76歲  四川省成都市武侯區峯設中路290號附8號溪凰家園2-6-1646  \n177587347",
     "四川省成都市武侯區峯設中路290號附8號溪凰家園2-6-1646"),
    ("清楷  女  56歲  黑龍江省北安市紅星農場第三管理區8隊9號  \n157八一六二40",
     "黑龍江省北安市紅星農場第三管理區8隊9號"),
])
def test_address_stops_at_the_cell_gap_and_the_line_of_digits(text: str, value: str) -> None:
    _exactly(text, value)


@pytest.mark.parametrize("text, value", [
    ("经审核，准予迁入于都县石桥乡后营村六组落户。", "于都县石桥乡后营村六组"),
    ("| 男 | 89岁 | 于都县石桥镇刘坪村4组65号 | (+86) 151", "于都县石桥镇刘坪村4组65号"),
    ("经审核，准予迁入宁晋县太平镇大营村五组88号落户。", "宁晋县太平镇大营村五组88号"),
    ("82年1]月15日生，住江西省闽州市于都租演河西路中26号楼汞公寓24-3-223，\n聯繫",
     "江西省闽州市于都租演河西路中26号楼汞公寓24-3-223"),
])
def test_county_named_with_a_stop_character_and_no_verb_before_it(text: str, value: str) -> None:
    _exactly(text, value)


def test_preposition_after_the_city_stays_outside() -> None:
    assert_found("籍贯山东省济南市由锦绣花园10号楼1单元804室迁入本户", "address", "锦绣花园10号楼1单元804室")


@pytest.mark.parametrize("text, value", [
    ("財生1989年12月12日\n儲千天津市和平區治江東路\n146号桥德家园13\n栋4单元1619室\n公民",
     "天津市和平區治江東路\n146号桥德家园13\n栋4单元1619室"),
])
def test_date_and_misread_label_glued_before_the_province_stay_outside(text: str, value: str) -> None:
    _exactly(text, value)


def test_road_named_after_a_province_keeps_its_city() -> None:
    _exactly("住南昌市江西路12号", "南昌市江西路12号")


@pytest.mark.parametrize("text, value", [
    ("530,住福建省福州市豉樓區五道[一路115號之一\n本陀于", "福建省福州市豉樓區五道[一路115號之一"),
    ("993年5月13日\n4和山东省临沂市兰陵县太\n平镇小庄村十一组92。，，\nAR", "山东省临沂市兰陵县太\n平镇小庄村十一组92。"),
    ("住址：南京路一百二十三号，", "南京路一百二十三号"),
    ("住址：阳光小区28-5-2433室，电话", "阳光小区28-5-2433室"),
])
def test_speck_in_the_road_name_and_misread_or_spelled_house_number(text: str, value: str) -> None:
    _exactly(text, value)


@pytest.mark.parametrize("text, value", [
    ("住中山路12号2258手机13800138000", "中山路12号"),
    ("住中山路12号民族汉", "中山路12号"),
])
def test_next_label_is_no_garbled_unit(text: str, value: str) -> None:
    _exactly(text, value)


@pytest.mark.parametrize("text, value", [
    ("住址 北京市丰台区红旗街1\n51号之一\n公民身份号码", "北京市丰台区红旗街1\n51号之一"),
    ("住址 重庆市渝中区园寿北路\n107号乙白银新村1\n7-1-1378\n公民身份号码",
     "重庆市渝中区园寿北路\n107号乙白银新村1\n7-1-1378"),
    ("住址 广东省广州市天河区竹\n公里190号附3号和\n民新村26栋5单元2\n140室\n公民身份号码",
     "广东省广州市天河区竹\n公里190号附3号和\n民新村26栋5单元2\n140室"),
])
def test_narrow_cell_wrap_inside_a_number_keeps_the_address_whole(text: str, value: str) -> None:
    _exactly(text, value)


@pytest.mark.parametrize("text, value", [
    ("送達地址\n浙江省杭州市西湖区建设大道150号甲桂花里小多29栋3单元1035室\n送達文書",
     "浙江省杭州市西湖区建设大道150号甲桂花里小多29栋3单元1035室"),
    ("現住址广西壮族自治区南宁市兴宁区杏华横街54号附]号桂花里小区27栋5单元1443室\n机191",
     "广西壮族自治区南宁市兴宁区杏华横街54号附]号桂花里小区27栋5单元1443室"),
])
def test_long_compound_name_and_misread_annex_number(text: str, value: str) -> None:
    _exactly(text, value)
