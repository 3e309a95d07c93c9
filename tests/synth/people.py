"""Personal data values for synthetic archive pages, in the formats real records print them.

Written from how 户籍, 干部人事 and 卷宗 documents actually look, independently of the product's
detectors: every value is valid where a real one would be (GB 11643 check digit, real region
codes and calendar dates, Luhn-valid card numbers with real BIN prefixes), and every format a
clerk, a typist or a form printer produces appears (separators, +86, area codes in brackets,
grouped card numbers, Chinese numerals, compound surnames, minority names with a middle dot,
pinyin names, 弄/栋/单元/室/村/组/甲/乙 addresses).
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

# Real county-level region codes (GB/T 2260) with the place they name, so an address and an ID
# number of the same person can agree the way they do on real records.
REGIONS = [
    ("110101", "北京市", "东城区"), ("110102", "北京市", "西城区"), ("110105", "北京市", "朝阳区"),
    ("110106", "北京市", "丰台区"), ("110108", "北京市", "海淀区"), ("120101", "天津市", "和平区"),
    ("130102", "河北省石家庄市", "长安区"), ("140105", "山西省太原市", "小店区"),
    ("210102", "辽宁省沈阳市", "和平区"), ("220102", "吉林省长春市", "南关区"),
    ("230102", "黑龙江省哈尔滨市", "道里区"), ("310101", "上海市", "黄浦区"),
    ("310104", "上海市", "徐汇区"), ("310115", "上海市", "浦东新区"),
    ("320102", "江苏省南京市", "玄武区"), ("320583", "江苏省苏州市", "昆山市"),
    ("330106", "浙江省杭州市", "西湖区"), ("340102", "安徽省合肥市", "瑶海区"),
    ("350102", "福建省福州市", "鼓楼区"), ("360102", "江西省南昌市", "东湖区"),
    ("370102", "山东省济南市", "历下区"), ("370202", "山东省青岛市", "市南区"),
    ("410102", "河南省郑州市", "中原区"), ("420102", "湖北省武汉市", "江岸区"),
    ("430102", "湖南省长沙市", "芙蓉区"), ("440103", "广东省广州市", "荔湾区"),
    ("440106", "广东省广州市", "天河区"), ("440304", "广东省深圳市", "福田区"),
    ("450102", "广西壮族自治区南宁市", "兴宁区"), ("500103", "重庆市", "渝中区"),
    ("510107", "四川省成都市", "武侯区"), ("520102", "贵州省贵阳市", "南明区"),
    ("530102", "云南省昆明市", "五华区"), ("610102", "陕西省西安市", "新城区"),
    ("620102", "甘肃省兰州市", "城关区"), ("640104", "宁夏回族自治区银川市", "兴庆区"),
    ("650102", "新疆维吾尔自治区乌鲁木齐市", "天山区"), ("653101", "新疆维吾尔自治区喀什地区", "喀什市"),
    ("130625", "河北省保定市", "徐水县"), ("341222", "安徽省阜阳市", "太和县"),
]
SURNAMES = ("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏窦章"
            "苏潘葛范彭鲁韦马苗方俞任袁柳鲍史唐费薛雷贺倪汤殷罗毕郝安常乐于傅齐康伍余顾孟黄"
            "穆萧尹姚邵汪祁毛狄米贝明臧计伏成戴谈宋庞熊纪舒屈项祝董梁杜阮蓝闵季贾路江童颜郭"
            "梅盛林钟徐邱骆高夏蔡田樊胡凌霍虞万柯卢莫房解应丁邓洪包左石崔龚程邢裴陆荣翁荀")
# Surnames real registers hold that are rare nationally, several in no 百家姓 edition (from the
# 2020 census surname lists: 亓 Shandong, 禤 Guangdong, 菅 Shanxi, 邸/郄 Hebei, 仵 Henan …).
RARE_SURNAMES = ("亓禤菅邸郄仵苟豆句啜泮母过种蹇信揣银线逢仉鄞郇邶靳牟隋战迟初栗闪锁姒"
                 "佀蒿麴冮逯谭衣寻敬展铁植由雒郐洑祁检玄普镡修")
COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "皇甫", "尉迟", "令狐", "端木", "公孙",
                     "慕容", "夏侯", "长孙", "宇文", "东方", "司徒", "申屠", "呼延", "钟离",
                     "闾丘", "范姜", "张简", "左丘"]
GIVEN_CHARS = ("建华国明秀兰玉珍桂芬淑英志刚海涛春生德福永红卫东晓燕丽娟金凤俊峰文斌宏伟家乐"
               "子轩雨萱思远梓涵嘉怡浩然一凡欣妍博涛佳琪瑞祥宗汉兆麟振邦维新念慈若愚秋菊冬梅"
               "长庚凤霞巧云翠屏玉堂树森铁军保国援朝胜利跃进红旗学军向阳")
# Given-name characters beyond the generational favourites above: what parents actually pick
# (census given-name frequency lists), so the detectors meet names they have no list for.
GIVEN_WIDE = ("安柏冰彩灿辰晨成承程驰崇楚川聪丹道迪鼎冬栋朵恩发方飞菲丰锋福富刚高歌耕功冠光"
              "广贵汉航豪皓和河贺恒弘鸿虹华桦环辉惠慧吉济佳坚剑江杰洁锦进晶竞静炯娟钧凯楷康"
              "可坤岚朗雷磊黎力立莉连良亮琳玲凌龙露璐伦罗满茂眉萌蒙淼敏鸣铭墨楠宁诺鹏平萍朴"
              "琦谦倩勤青清晴庆琼秋泉然蓉榕锐瑞润莎珊善尚韶绍晟盛诗石实淑舒爽顺硕思松颂素涛"
              "腾婷彤桐威薇巍炜蔚温雯武舞希曦霞贤娴翔潇笑昕新鑫星幸雄修秀旭煦轩璇雪勋雅妍岩"
              "彦艳焱扬杨仰瑶怡毅逸茵寅颖永咏勇友佑于宇羽钰煜元园远悦跃云允韵泽增湛昭哲臻振"
              "铮正芝知志致智忠洲竹卓子紫宗")
# Given names that are also ordinary words: a detector that drops dictionary words misses them.
WORD_GIVEN = ["建设", "国庆", "和平", "建军", "爱国", "卫星", "春花", "秋月", "光明", "解放",
              "新民", "自力", "幸福", "向前", "红军", "文化", "振兴", "海燕", "长江", "永久"]
MINORITY_PARTS = ["买买提", "艾力", "阿不都", "吐尔逊", "热合曼", "阿依古丽", "古丽米拉", "努尔",
                  "依明", "艾合买提", "帕提古丽", "如仙古丽", "阿里木", "再努尔", "玉素甫", "迪丽拜尔",
                  "哈斯", "巴特尔", "乌兰", "其其格"]
PINYIN_SURNAMES = {"王": "Wang", "李": "Li", "张": "Zhang", "刘": "Liu", "陈": "Chen", "杨": "Yang",
                   "赵": "Zhao", "黄": "Huang", "周": "Zhou", "吴": "Wu", "徐": "Xu", "孙": "Sun",
                   "欧阳": "Ouyang", "司马": "Sima", "上官": "Shangguan"}
PINYIN_GIVEN = ["Wei", "Fang", "Jianguo", "Xiaoming", "Lihua", "Mingyue", "Haitao", "Yuzhen",
                "Zhiqiang", "Guilan", "Chunsheng", "Xinyi", "Zihan", "Junjie", "Shulan"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "180",
                   "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199"]
AREA_CODES = [("010", 8), ("021", 8), ("022", 8), ("020", 8), ("023", 8), ("024", 8), ("025", 8),
              ("027", 8), ("028", 8), ("029", 8), ("0571", 8), ("0755", 8), ("0311", 7),
              ("0531", 8), ("0371", 8), ("0731", 8), ("0312", 7), ("0558", 7), ("0991", 7)]
# (prefix, total length): real issuer prefixes, UnionPay debit, old 9558 passbook cards, Visa, MC.
CARD_BINS = [("622202", 19), ("622848", 19), ("621700", 19), ("622588", 16), ("621483", 16),
             ("955880", 19), ("95599", 19), ("436742", 16), ("456351", 16), ("518710", 16),
             ("625965", 16), ("623058", 19), ("6217", 19), ("9558", 19), ("4", 16), ("5", 16)]
# Syllables road and estate names are made of, combined freely so names are not from a list.
PLACE_CHARS = ("东西南北中新兴华安平和康宁福寿永昌盛德仁义礼信民丰泰祥瑞金银玉石桥溪河湖江"
               "海山岭峰林松柏桃李杏梅兰竹菊荷花园春秋朝阳光明文武胜利建设人民公园学府"
               "青龙白鹤凤凰黄鹤鼓楼钟楼府前仓前后街桂香枣树槐柳杨榆")
ROADS = ["育新", "花园", "北土城", "五道口", "曹杨", "漕溪", "淮海", "延安", "解放", "建设", "红旗",
         "工农", "光华", "青年", "团结", "松江", "滨河", "沿江", "长江", "珠江", "迎宾", "紫荆",
         "芳草", "桐梓林", "劳动", "百花", "文昌", "朝阳门", "和平里", "天坛"]
ROAD_KINDS = ["路", "街", "大街", "大道", "东路", "西路", "北街", "南巷", "胡同", "里", "巷",
              "中路", "一路", "二路", "横街", "支路", "南路", "北路"]
ESTATES = ["育新花园", "金秋园", "曹杨新村", "望江苑", "紫荆家园", "康乐小区", "银杏公寓", "翠湖湾",
           "钢厂宿舍", "纺织新村", "东湖花园", "桂花里小区"]
TOWNS = ["城关镇", "河西乡", "柳林镇", "马集乡", "新华街道", "小营街道", "太平镇", "石桥乡",
         "关庙镇", "龙泉驿街道", "三合乡", "白沙镇", "东坝乡", "牛栏山镇"]
VILLAGE_HEADS = ["刘", "孙", "前", "后", "大", "小", "东", "西", "高", "杨", "黄"]
VILLAGE_TAILS = ["庄村", "家村", "营村", "屯", "店村", "湾村", "寨村", "集村", "坪村", "岗村",
                 "沟村", "铺村", "桥村", "洼村"]
CN_DIGITS = "〇一二三四五六七八九"
CN_DIGITS_ZERO = "零一二三四五六七八九"

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


def id_check_digit(body17: str) -> str:
    """GB 11643-1999 check character of the first 17 digits."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, _WEIGHTS)) % 11]


def id_is_valid(value: str) -> bool:
    return (len(value) == 18 and value[:17].isdigit()
            and id_check_digit(value[:17]) == value[17].upper())


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        total += d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
    return total % 10 == 0


def _luhn_complete(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


@dataclass
class Person:
    """One person on a page: the canonical values and how this page prints each of them."""

    name: str
    sex: str
    birth: dt.date
    region: tuple[str, str, str]
    id18: str
    id15: str
    mobile: str  # as printed (separators and all)
    landline: str
    card: str
    address: str
    address_detail: int  # offset in `address` where the detail after province/city/district starts
    name_pinyin: str
    mobile_cn: str  # the mobile number written in Chinese numerals
    id_print: str = ""  # wide pages (tests.synth.wide): how this page prints the ID, "" = as before


class People:
    """Seeded source of persons and of hard negatives (numbers that are not personal data)."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    # --- names ----------------------------------------------------------------------------
    def name(self) -> tuple[str, str]:
        """(name, pinyin) — 2-4 characters, compound and rare surnames, given names from a wide
        pool or that are ordinary words, minority names with a dot."""
        r = self.r
        roll = r.random()
        if roll < 0.10:
            parts = r.sample(MINORITY_PARTS, 2)
            return "·".join(parts), ""
        if roll < 0.20:
            sur = r.choice(COMPOUND_SURNAMES)
        elif roll < 0.30:
            sur = r.choice(RARE_SURNAMES)
        else:
            sur = r.choice(SURNAMES)
        pick = r.random()
        if pick < 0.06:
            given = r.choice(WORD_GIVEN)
        else:
            pool = GIVEN_WIDE if pick < 0.5 else GIVEN_CHARS
            given = "".join(r.choice(pool) for _ in range(r.choice([1, 2, 2, 2])))
        py = PINYIN_SURNAMES.get(sur)
        pinyin = f"{py} {r.choice(PINYIN_GIVEN)}" if py else ""
        return sur + given, pinyin

    # --- identifiers ----------------------------------------------------------------------
    def birth(self) -> dt.date:
        return dt.date(1932, 1, 1) + dt.timedelta(days=self.r.randint(0, 26500))

    def id_numbers(self, region: str, birth: dt.date, sex: str) -> tuple[str, str]:
        seq = self.r.randint(0, 99)
        sex_digit = self.r.choice("13579" if sex == "男" else "02468")
        body = f"{region}{birth:%Y%m%d}{seq:02d}{sex_digit}"
        id15 = f"{region}{birth:%y%m%d}{seq:02d}{sex_digit}"
        return body + id_check_digit(body), id15

    def mobile_digits(self) -> str:
        return self.r.choice(MOBILE_PREFIXES) + "".join(self.r.choice("0123456789") for _ in range(8))

    def mobile(self, digits: str) -> str:
        a, b, c = digits[:3], digits[3:7], digits[7:]
        forms = [digits, digits, f"{a} {b} {c}", f"{a}-{b}-{c}", f"{a}—{b}—{c}", f"{a}.{b}.{c}",
                 f"+86 {a} {b} {c}", f"+86-{digits}", f"+86{digits}", f"{a}-{b}{c}",
                 f"{a} {b}{c}", digits.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
                 f"{a}{b} {c}", f"{a} {b}-{c}", f"(+86){digits}", f"0086-{digits}",
                 f"+86 {a}-{b}-{c}", f"{a}－{b}－{c}", f"{a}·{b}·{c}"]
        return self.r.choice(forms)

    def chinese_numerals(self, digits: str) -> str:
        table = self.r.choice([CN_DIGITS, CN_DIGITS_ZERO])
        return "".join(table[int(d)] for d in digits)

    def landline(self) -> tuple[str, str]:
        """(with area code, local number alone) — the local form appears only after a cue."""
        code, length = self.r.choice(AREA_CODES)
        local = str(self.r.randint(2, 8)) + "".join(self.r.choice("0123456789")
                                                   for _ in range(length - 1))
        split = f"{local[:4]} {local[4:]}" if length == 8 else local
        forms = [f"{code}-{local}", f"({code}){local}", f"（{code}）{local}", f"{code} {local}",
                 f"{code}-{split}", f"{code}{local}"]
        return self.r.choice(forms), self.r.choice([local, split]) if length == 8 else local

    def card(self) -> str:
        prefix, length = self.r.choice(CARD_BINS)
        if len(prefix) == 1:
            length = self.r.choice([16, 16, 19])
        body = prefix + "".join(self.r.choice("0123456789") for _ in range(length - len(prefix) - 1))
        number = _luhn_complete(body)
        style = self.r.random()
        if style < 0.45:
            return number
        if style < 0.85:
            return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
        return "-".join(number[i:i + 4] for i in range(0, len(number), 4))

    # --- addresses ------------------------------------------------------------------------
    def house_number(self) -> str:
        n = self.r.randint(1, 399)
        roll = self.r.random()
        if roll < 0.12:
            return f"{n}号{self.r.choice('甲乙丙')}"
        if roll < 0.24:
            return f"{self.r.choice('甲乙')}{n}号"
        if roll < 0.32:
            return f"{n}-{self.r.randint(1, 9)}号"
        if roll < 0.38:
            return f"{n}号附{self.r.randint(1, 12)}号"
        if roll < 0.42:
            return f"{n}号之{self.r.randint(1, 9)}"
        return f"{n}号"

    def road(self) -> str:
        """A road name: from the list, or two place syllables no list holds."""
        r = self.r
        name = r.choice(ROADS) if r.random() < 0.5 else "".join(r.sample(PLACE_CHARS, 2))
        return name + r.choice(ROAD_KINDS)

    def estate(self) -> str:
        r = self.r
        if r.random() < 0.5:
            return r.choice(ESTATES)
        return "".join(r.sample(PLACE_CHARS, 2)) + r.choice(["小区", "花园", "新村", "家园", "苑", "公寓"])

    def address(self, region: tuple[str, str, str]) -> tuple[str, int]:
        _, city, district = region
        r = self.r
        head = city + district
        roll = r.random()
        road = self.road()
        village = r.choice(VILLAGE_HEADS) + r.choice(VILLAGE_TAILS)
        group = r.choice("一二三四五六七八九十") if r.random() < 0.6 else str(r.randint(1, 15))
        if roll < 0.16:
            tail = f"{road}{r.randint(1, 999)}弄{r.randint(1, 80)}号{r.randint(101, 1204)}室"
        elif roll < 0.32:
            tail = (f"{road}{self.house_number()}{self.estate()}{r.randint(1, 32)}栋"
                    f"{r.randint(1, 6)}单元{r.randint(101, 2602)}室")
        elif roll < 0.46:
            tail = f"{r.choice(TOWNS)}{village}{group}组{r.randint(1, 120)}号"
        elif roll < 0.52:
            tail = f"{r.choice(TOWNS)}{village[:-1] if village.endswith('村') else village}村{group}组"
        elif roll < 0.62:
            tail = f"{road}{self.house_number()}院{r.randint(1, 12)}号楼{r.randint(1, 5)}门{r.randint(101, 602)}号"
        elif roll < 0.70:
            tail = f"{road}{r.randint(1, 60)}巷{r.randint(1, 99)}号"
        elif roll < 0.76:
            tail = f"{road}{r.randint(1, 999)}弄{r.randint(1, 30)}支弄{r.randint(1, 60)}号"
        elif roll < 0.82:
            tail = (f"{self.estate()}{r.randint(1, 40)}{r.choice(['幢', '号楼', '栋'])}"
                    f"{r.randint(101, 2302)}室")
        elif roll < 0.87:
            tail = f"{road}{self.house_number()}{r.randint(1, 9)}栋{r.randint(1, 4)}单元{r.randint(1, 18)}楼{r.randint(1, 4)}号"
        else:
            tail = f"{road}{self.house_number()}"
        if r.random() < 0.3:  # records often drop the province for the home region
            head = district
        return head + tail, len(head)

    def person(self) -> Person:
        name, pinyin = self.name()
        sex = self.r.choice("男女")
        birth = self.birth()
        region = self.r.choice(REGIONS)
        id18, id15 = self.id_numbers(region[0], birth, sex)
        digits = self.mobile_digits()
        landline, _ = self.landline()
        address, detail = self.address(self.r.choice(REGIONS) if self.r.random() < 0.3 else region)
        return Person(name=name, sex=sex, birth=birth, region=region, id18=id18, id15=id15,
                      mobile=self.mobile(digits), landline=landline, card=self.card(),
                      address=address, address_detail=detail, name_pinyin=pinyin,
                      mobile_cn=self.chinese_numerals(self.mobile_digits()))

    # --- hard negatives (numbers and words that are not personal data) --------------------
    def date_text(self) -> str:
        d = dt.date(1950, 1, 1) + dt.timedelta(days=self.r.randint(0, 27000))
        forms = [f"{d.year}年{d.month}月{d.day}日", f"{d:%Y-%m-%d}", f"{d:%Y.%m.%d}", f"{d:%Y%m%d}",
                 f"{d.year}年{d.month:02d}月", self.cn_year(d.year) + f"年{self.cn_small(d.month)}月"]
        return self.r.choice(forms)

    def cn_year(self, year: int) -> str:
        return "".join(CN_DIGITS[int(ch)] for ch in str(year))

    def cn_small(self, n: int) -> str:
        tens, ones = divmod(n, 10)
        return ("" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")) + \
            ("" if ones == 0 and tens else CN_DIGITS[ones])

    def file_no(self, *, archival: bool = True) -> str:
        """A 档号 (`archival`), or another document/household number: those never print as one
        bare run of 7+ digits, which a 档号 cue alone makes safe to show."""
        y = self.r.randint(1985, 2024)
        forms = [f"{self.r.choice(['HJ', 'GB', 'JZ', 'WS'])}·{y}·{self.r.randint(1, 9999):04d}",
                 f"{self.r.randint(1, 99)}-{y}-{self.r.randint(1, 999):03d}",
                 f"{y}{self.r.randint(1, 99999):05d}",
                 f"A{self.r.randint(10, 99)}-{self.r.randint(1000, 99999)}"]
        if not archival:
            forms[2] = f"{forms[2][2:4]}-{forms[2][4:]}"
        return self.r.choice(forms)

    def case_no(self) -> str:
        y = self.r.randint(1995, 2024)
        court = self.r.choice(["京0108", "沪0104", "粤0106", "川0107", "浙0106", "冀0602"])
        kind = self.r.choice(["民初", "刑初", "民终", "行初", "执", "刑终"])
        return f"（{y}）{court}{kind}{self.r.randint(1, 39999)}号"

    def amount(self) -> str:
        yuan = self.r.randint(100, 9_999_999)
        forms = [f"人民币{yuan:,}元", f"{yuan}.{self.r.randint(0, 99):02d}元", f"{yuan}元",
                 f"人民币{yuan // 10000}万元"]
        return self.r.choice(forms)

    def year(self) -> str:
        return str(self.r.randint(1949, 2024))
