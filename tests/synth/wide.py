"""Wider personal-data formats for the "wide" pages: what a records office meets beyond the forms
the first generator prints (`People`), so detectors tuned on those meet values they were not
tuned on.

Only pages built with `wide=True` use `WidePeople`; every other page draws exactly the values it
drew before (same RNG calls), so existing seeds keep their pages. Written without reading the
detectors: the formats come from how clerks, typists, form printers and court registries write.
"""
from __future__ import annotations

from tests.synth.people import (CN_DIGITS, CN_DIGITS_ZERO, MINORITY_PARTS, PINYIN_GIVEN, REGIONS,
                                People, Person, _luhn_complete, id_check_digit)

# County-level regions (GB/T 2260), for rural addresses with 县/乡/村/组, and the bodies whose
# addresses have no 县 at all: 兵团 divisions and regiments, state farms with their 管理区/队.
COUNTIES = [("330624", "浙江省绍兴市", "新昌县"), ("411723", "河南省驻马店市", "平舆县"),
            ("510322", "四川省自贡市", "富顺县"), ("130528", "河北省邢台市", "宁晋县"),
            ("371324", "山东省临沂市", "兰陵县"), ("520121", "贵州省贵阳市", "开阳县"),
            ("421022", "湖北省荆州市", "公安县"), ("360731", "江西省赣州市", "于都县")]
CORPS = [("659001", "新疆生产建设兵团第八师", "石河子市"), ("659002", "新疆生产建设兵团第一师", "阿拉尔市"),
         ("659003", "新疆生产建设兵团第三师", "图木舒克市"), ("659004", "新疆生产建设兵团第六师", "五家渠市")]
FARMS = [("231181", "黑龙江省北安市", "红星农场"), ("230882", "黑龙江省富锦市", "七星农场"),
         ("460000", "海南省", "南田农场"), ("532801", "云南省西双版纳州景洪市", "东风农场")]
REGIMENTS = ["一四三团", "一二一团", "一三三团", "十团", "一四八团", "二二二团", "四十四团"]
DOTS = ["·", "·", "•", "・", "．", " · "]
TIBETAN_MONGOLIAN = ["扎西次仁", "格桑卓玛", "次仁旺堆", "巴特尔", "其木格", "斯琴高娃", "乌云其其格",
                     "多吉", "央金", "洛桑丹增", "阿旺曲珍", "额尔敦"]
OLD_MARRIED_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
PINYIN = {"王": "Wang", "李": "Li", "张": "Zhang", "刘": "Liu", "陈": "Chen", "杨": "Yang",
          "赵": "Zhao", "黄": "Huang", "周": "Zhou", "吴": "Wu", "徐": "Xu", "孙": "Sun", "胡": "Hu",
          "朱": "Zhu", "高": "Gao", "林": "Lin", "何": "He", "郭": "Guo", "马": "Ma", "罗": "Luo",
          "欧阳": "Ouyang", "司马": "Sima", "上官": "Shangguan", "诸葛": "Zhuge", "慕容": "Murong"}
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


class WidePeople(People):
    """`People` with the wider formats; a Person's `id_print` says how this page prints the ID."""

    # --- names ----------------------------------------------------------------------------
    def name(self) -> tuple[str, str]:
        r = self.r
        roll = r.random()
        if roll < 0.45:
            name, pinyin = super().name()
            if "·" in name:
                name = name.replace("·", r.choice(DOTS))
            return name, pinyin
        if roll < 0.55:
            return r.choice(DOTS).join(r.sample(MINORITY_PARTS, r.choice([2, 2, 3]))), ""
        if roll < 0.62:
            return r.choice(TIBETAN_MONGOLIAN), ""
        if roll < 0.67:  # 1950s–70s registers: a married woman as 夫姓 + 父姓 + 氏
            a, b = r.sample(OLD_MARRIED_SURNAMES, 2)
            return f"{a}{b}氏", ""
        sur = r.choice(list(PINYIN))
        given_cn = "".join(r.choice("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰")
                           for _ in range(r.choice([1, 2, 2])))
        if roll < 0.75 and len(sur) == 2:
            given_cn = given_cn[:2] if len(given_cn) == 2 else given_cn + "华"  # 4-character names
        py = f"{PINYIN[sur]} {r.choice(PINYIN_GIVEN)}"
        if r.random() < 0.3:
            py = py.upper()
        return sur + given_cn, py

    # --- identifiers ----------------------------------------------------------------------
    def id_print(self, id18: str, id15: str) -> str:
        """How the ID is printed: spaced 6-8-4, lower-case x, per-box digits, full width, 15-digit."""
        r = self.r
        roll = r.random()
        if roll < 0.30:
            return id18
        if roll < 0.45:
            return f"{id18[:6]} {id18[6:14]} {id18[14:]}"
        if roll < 0.52:
            return id18[:-1] + id18[-1].lower() if id18.endswith("X") else id18
        if roll < 0.60:
            return " ".join(id18)  # one digit per printed box
        if roll < 0.66:
            return id18.translate(FULL)
        if roll < 0.72:
            return f"{id18[:6]}-{id18[6:14]}-{id18[14:]}"
        if roll < 0.86:
            return id15
        cut = r.choice([6, 10, 14, r.randint(3, 16)])
        return id18[:cut] + "\n" + id18[cut:]  # a narrow cell wrapped it

    def id_numbers(self, region: str, birth, sex: str) -> tuple[str, str]:
        id18, id15 = super().id_numbers(region, birth, sex)
        if self.r.random() < 0.25 and not id18.endswith("X"):  # lower-case x needs an X to print
            for seq in range(100):
                body = f"{id18[:14]}{seq:02d}{id18[16]}"
                if id_check_digit(body) == "X":
                    return body + "X", f"{id15[:12]}{seq:02d}{id15[14]}"
        return id18, id15

    def mobile(self, digits: str) -> str:
        r = self.r
        a, b, c = digits[:3], digits[3:7], digits[7:]
        cn = "".join(r.choice([CN_DIGITS, CN_DIGITS_ZERO])[int(d)] for d in b)
        forms = [f"(+86) {a} {b} {c}", f"（+86）{a}-{b}-{c}", f"+86 {a}-{b}-{c}", f"0086 {digits}",
                 f"0086-{a}-{b}-{c}", f"86-{digits}", f"{a} {b} {c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}",
                 f"{a}{cn}{c}", f"{a} {cn} {c}", f"{a}–{b}–{c}", f"{a} - {b} - {c}",
                 f"{a}-{b}-{c}".translate(FULL), f"{a}／{b}／{c}", digits, f"+86 {digits}",
                 f"{a}　{b}　{c}"]
        return r.choice(forms)

    def landline(self) -> tuple[str, str]:
        r = self.r
        code, length = r.choice([("010", 8), ("0571", 8), ("021", 8), ("0755", 8), ("0311", 7),
                                 ("0898", 8), ("0993", 7), ("0456", 7), ("020", 8)])
        local = str(r.randint(2, 8)) + "".join(r.choice("0123456789") for _ in range(length - 1))
        split = f"{local[:4]}-{local[4:]}" if length == 8 else f"{local[:3]}-{local[3:]}"
        spaced = split.replace("-", " ")
        ext = r.choice(["转" + str(r.randint(801, 8899)), "-" + str(r.randint(801, 8899)),
                        " 分机" + str(r.randint(100, 899)), "转" + str(r.randint(10, 99)),
                        " ext." + str(r.randint(100, 899))])
        forms = [f"({code}){split}", f"（{code}）{split}", f"{code}-{spaced}", f"{code}—{local}",
                 f"{code}-{local}{ext}", f"({code}){local}{ext}", f"+86-{code[1:]}-{local}",
                 f"{code} {spaced}", f"{code}－{local}", f"{code}.{local}"]
        return r.choice(forms), r.choice([local, split, spaced])

    def card(self) -> str:
        r = self.r
        prefix, length = r.choice([("622202", 19), ("622848", 19), ("621226", 19), ("622262", 19),
                                   ("6013820", 19), ("622580", 16), ("625802", 16), ("940022", 19),
                                   ("621098", 17), ("622126", 18), ("9559980", 19), ("356833", 16)])
        body = prefix + "".join(r.choice("0123456789") for _ in range(length - len(prefix) - 1))
        number = _luhn_complete(body)
        roll = r.random()
        if roll < 0.25:
            return number
        if roll < 0.55:
            return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
        if roll < 0.65:
            return f"{number[:6]} {number[6:]}"
        if roll < 0.75:
            return "-".join(number[i:i + 4] for i in range(0, len(number), 4))
        if roll < 0.85:
            return "  ".join(number[i:i + 4] for i in range(0, len(number), 4))
        if roll < 0.92:
            return number.translate(FULL)
        return " ".join(number[i:i + 4] for i in range(0, 16, 4)) + (" " + number[16:] if length > 16 else "")

    # --- addresses ------------------------------------------------------------------------
    def house_number(self) -> str:
        r = self.r
        n = r.randint(1, 299)
        roll = r.random()
        if roll < 0.15:
            return f"{n}号之一"
        if roll < 0.25:
            return f"{self.cn_small(r.randint(1, 99))}号"
        if roll < 0.35:
            return f"{n}号附{r.randint(1, 9)}号"
        if roll < 0.45:
            return f"甲{n}号"
        if roll < 0.55:
            return f"{n}号乙"
        return super().house_number()

    def address(self, region: tuple[str, str, str]) -> tuple[str, int]:
        r = self.r
        roll = r.random()
        n = r.randint
        if roll < 0.15:
            code, corps, city = r.choice(CORPS)
            head = corps if r.random() < 0.6 else "新疆维吾尔自治区" + city
            tail = f"{r.choice(REGIMENTS)}{self.cn_small(n(1, 20))}连{n(1, 80)}号"
            return head + tail, len(head)
        if roll < 0.25:
            code, city, farm = r.choice(FARMS)
            return city + f"{farm}第{self.cn_small(n(1, 9))}管理区{n(1, 30)}队{n(1, 60)}号", len(city)
        if roll < 0.45:
            _, prov, county = r.choice(COUNTIES)
            head = prov + county if r.random() < 0.6 else county
            town = r.choice(["城关镇", "柳林乡", "马集乡", "石桥镇", "河西乡", "太平镇"])
            village = r.choice("刘孙前后大小东西高杨黄") + r.choice(["庄村", "家村", "营村", "湾村", "坪村"])
            group = self.cn_small(n(1, 12)) if r.random() < 0.5 else str(n(1, 12))
            return head + f"{town}{village}{group}组{n(1, 99)}号", len(head)
        if roll < 0.70:
            _, city, district = region
            head = city + district
            estate = self.estate()
            unit = (f"{n(1, 30)}栋{n(1, 6)}单元{n(101, 2602)}室" if r.random() < 0.5
                    else f"{n(1, 30)}-{n(1, 6)}-{n(101, 2602)}")
            return head + f"{self.road()}{self.house_number()}{estate}{unit}", len(head)
        if roll < 0.85:
            _, city, district = region
            head = city + district
            return head + f"{self.road()}{self.house_number()}", len(head)
        return super().address(region)

    def person(self) -> Person:
        r = self.r
        name, pinyin = self.name()
        sex = r.choice("男女")
        birth = self.birth()
        # rural and 兵团 people carry their county's code in the ID, as on real registers
        region = r.choice(COUNTIES + CORPS[:2]) if r.random() < 0.3 else r.choice(REGIONS)
        id18, id15 = self.id_numbers(region[0], birth, sex)
        landline, _ = self.landline()
        address, detail = self.address(r.choice(REGIONS) if r.random() < 0.3 else region)
        return Person(name=name, sex=sex, birth=birth, region=region, id18=id18, id15=id15,
                      mobile=self.mobile(self.mobile_digits()), landline=landline, card=self.card(),
                      address=address, address_detail=detail, name_pinyin=pinyin,
                      mobile_cn=self.chinese_numerals(self.mobile_digits()),
                      id_print=self.id_print(id18, id15))


__all__ = ["WidePeople"]
