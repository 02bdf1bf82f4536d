"""Name and place vocabularies of the two evaluation sets: DEV (tune on it) and TEST (report only).

The two share no brand word and no place name: a rule that learnt a word of DEV cannot help on TEST. What they
share is the trade (legal forms, product lines, the way addresses are written), which the matcher is allowed to
know. Brand words of countries with a script of their own carry that script's spelling, so a submission can name a
factory in Khmer, Arabic, Bengali or with Vietnamese diacritics.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CountryVocabulary:
    code: str
    name: str  # as put in brackets after a name: "X (Cambodia) Co., Ltd"
    legal_forms: tuple[str, ...]
    local_prefix: str  # the legal form in the local language or script, put before the brand
    words: tuple[tuple[str, str], ...]  # brand words: (romanised, local spelling; "" when none)
    district_prefix: str  # "Khan Por Senchey"; glossed as "Por Senchey District"
    provinces: tuple[tuple[str, ...], ...]  # each a place and its other spellings
    districts: tuple[tuple[str, ...], ...]
    zones: tuple[str, ...]
    streets: tuple[str, ...]  # "{n}" is the street number


PRODUCT_LINES = ("Knit", "Denim", "Sweater", "Woven", "Washing", "Printing", "Embroidery", "Apparel", "Textile")


@dataclass(frozen=True)
class Vocabulary:
    name: str
    countries: tuple[CountryVocabulary, ...]
    groups: tuple[str, ...]  # parent groups that prefix a name ("Crystal Group - X")
    filler: tuple[str, ...]  # romanised syllables for countries without a script vocabulary


_KH_LEGAL = ("Co., Ltd.", "Co., Ltd", "Company Limited", "Garment Co., Ltd", "(Cambodia) Co., Ltd.")
_VN_LEGAL = ("Co., Ltd", "Company Limited", "JSC", "Joint Stock Company", "Garment Co., Ltd")
_BD_LEGAL = ("Ltd.", "Limited", "Ltd", "(Pvt.) Ltd.", "Private Limited")
_ID_LEGAL = ("PT", "Tbk", "Co., Ltd")
_JO_LEGAL = ("Co.", "LLC", "Company Limited", "Ltd.")
_EG_LEGAL = ("S.A.E.", "Co.", "LLC", "Company")
_MM_LEGAL = ("Co., Ltd.", "Company Limited", "Ltd")
_LK_LEGAL = ("(Pvt) Ltd", "Private Limited", "PLC", "Ltd")

# fmt: off
DEV = Vocabulary(
    name="dev",
    groups=("Crystal", "Hirdaramani", "Esquel", "Shahi", "Pou Chen", "Youngone", "Makalot", "Nien Hsing"),
    filler=(
        "an", "bao", "bin", "chan", "dara", "duc", "gia", "hai", "hong", "jaya", "kim", "lan", "leng", "long",
        "mai", "mey", "minh", "nam", "phat", "rith", "sakura", "sari", "sinar", "sok", "sun", "tan", "thien",
        "tien", "wang", "wei", "xin", "yong", "zhong", "jin", "da", "rui",
    ),
    countries=(
        CountryVocabulary(
            "KH", "Cambodia", _KH_LEGAL, "ក្រុមហ៊ុន",
            (
                ("Sok", "សុខ"), ("Dara", "តារា"), ("Pich", "ពេជ្រ"), ("Rathana", "រតនា"), ("Sophal", "សុផល"),
                ("Vanna", "វណ្ណា"), ("Mekong", "មេគង្គ"), ("Angkor", "អង្គរ"), ("Chan", "ចាន់"), ("Srey", "ស្រី"),
                ("Bopha", "បុប្ផា"), ("Samnang", "សំណាង"), ("Kosal", "កុសល"), ("Mongkol", "មង្គល"),
            ),
            "Khan",
            (("Phnom Penh", "Phnum Penh"), ("Kandal",), ("Kampong Speu", "Kompong Speu"), ("Svay Rieng",)),
            (("Por Senchey", "Posenchey", "Pur SenChey"), ("Dangkao", "Dangkor"), ("Chbar Ampov",), ("Meanchey",)),
            ("Manhattan SEZ", "Tai Seng SEZ", "Phnom Penh SEZ", "Kandal Stung Industrial Park"),
            ("Street {n}", "National Road {n}", "Veng Sreng Boulevard"),
        ),
        CountryVocabulary(
            "VN", "Vietnam", _VN_LEGAL, "Công ty TNHH May",
            (
                ("Hoa Binh", "Hòa Bình"), ("Thanh Cong", "Thành Công"), ("Viet Tien", "Việt Tiến"),
                ("Phuoc Loc", "Phước Lộc"), ("Hung Thinh", "Hưng Thịnh"), ("Duc Thanh", "Đức Thành"),
                ("Minh Anh", "Minh Anh"), ("Tan Tien", "Tân Tiến"), ("Phu Cuong", "Phú Cường"),
                ("Nhat Quang", "Nhật Quang"), ("Hoang Long", "Hoàng Long"), ("Song Hong", "Sông Hồng"),
            ),
            "Quan",
            (("Ho Chi Minh City", "TP HCM", "HCMC"), ("Dong Nai", "Đồng Nai"), ("Binh Duong", "Bình Dương")),
            (("Binh Tan", "Bình Tân"), ("Thu Duc", "Thủ Đức"), ("Bien Hoa", "Biên Hòa"), ("Di An", "Dĩ An")),
            ("Tan Tao Industrial Zone", "Song May Industrial Zone", "VSIP", "Nhon Trach Industrial Zone"),
            ("Duong so {n}", "Street {n}", "National Road {n}"),
        ),
        CountryVocabulary(
            "BD", "Bangladesh", _BD_LEGAL, "",
            (
                ("Rupa", "রূপা"), ("Shapla", "শাপলা"), ("Meghna", "মেঘনা"), ("Padma", "পদ্মা"), ("Jamuna", "যমুনা"),
                ("Sonar", "সোনার"), ("Bangla", "বাংলা"), ("Tara", "তারা"), ("Alo", "আলো"), ("Sobuj", "সবুজ"),
                ("Akash", "আকাশ"), ("Digonto", "দিগন্ত"),
            ),
            "Upazila",
            (("Chittagong", "Chattogram", "Ctg"), ("Dhaka", "Dacca"), ("Gazipur", "Gajipur")),
            (("Ashulia",), ("Tongi",), ("Savar", "Saver"), ("Kaliakair", "Kaliakoir")),
            ("Dhaka EPZ", "Chittagong EPZ", "Karnaphuli EPZ", "BSCIC Industrial Area"),
            ("Road {n}", "Plot {n} Sector 7", "Dhaka-Aricha Highway"),
        ),
        CountryVocabulary(
            "ID", "Indonesia", _ID_LEGAL, "PT",
            tuple((w, "") for w in ("Sinar", "Jaya", "Makmur", "Abadi", "Sentosa", "Busana", "Mulia", "Indah")),
            "Kecamatan",
            (("Jawa Barat", "West Java"), ("Jawa Tengah", "Central Java"), ("Banten",)),
            (("Cikarang",), ("Semarang", "Smarang"), ("Tangerang",), ("Bogor",)),
            ("Kawasan Berikat Nusantara", "Kawasan Industri Jababeka", "MM2100"),
            ("Jl. Raya Bogor Km {n}", "Jalan Industri {n}", "Jl. Gatot Subroto No. {n}"),
        ),
        CountryVocabulary(
            "JO", "Jordan", _JO_LEGAL, "شركة",
            (
                ("Hassan", "حسن"), ("Noor", "نور"), ("Amal", "أمل"), ("Salam", "سلام"), ("Fajr", "فجر"),
                ("Rahma", "رحمة"), ("Yasmin", "ياسمين"), ("Zahra", "زهرة"),
            ),
            "Liwa",
            (("Irbid", "Irbed"), ("Amman",), ("Zarqa", "Zarka")),
            (("Al Hassan", "El Hassan"), ("Sahab",), ("Dulayl", "Dhuleil")),
            ("Al Hassan Industrial Estate", "Al Tajamouat Industrial City", "Dulayl Industrial Park"),
            ("Street {n}", "King Abdullah Street"),
        ),
        CountryVocabulary(
            "EG", "Egypt", _EG_LEGAL, "مصنع",
            (
                ("Qamar", "قمر"), ("Shams", "شمس"), ("Badr", "بدر"), ("Huda", "هدى"), ("Karim", "كريم"),
                ("Mona", "منى"), ("Nile", "النيل"), ("Misr", "مصر"),
            ),
            "Markaz",
            (("Qalyubia", "Kalyoubia"), ("Alexandria", "Iskandariya"), ("Sharqia", "Sharkia")),
            (("10th of Ramadan", "Tenth of Ramadan"), ("Borg El Arab", "Burg al Arab"), ("Obour", "El Obour")),
            ("Public Free Zone", "Industrial Zone A", "Industrial Zone B"),
            ("Street {n}", "Plot {n} Industrial Area"),
        ),
        CountryVocabulary(
            "MM", "Myanmar", _MM_LEGAL, "",
            tuple((w, "") for w in ("Shwe", "Myint", "Aung", "Zaw", "Htet", "Thiri", "Nay", "Linn")),
            "Township",
            (("Yangon", "Rangoon"), ("Bago", "Pegu")),
            (("Hlaing Tharyar", "Hlaingthaya"), ("Shwepyithar", "Shwe Pyi Thar"), ("Mingaladon",)),
            ("Hlaing Tharyar Industrial Zone", "Thilawa SEZ", "Shwe Lin Ban Industrial Zone"),
            ("Road {n}", "No. {n} Street"),
        ),
        CountryVocabulary(
            "LK", "Sri Lanka", _LK_LEGAL, "",
            tuple((w, "") for w in ("Lanka", "Ruhuna", "Kandy", "Sigiri", "Nila", "Ratna", "Suriya", "Mihira")),
            "DS Division",
            (("Western Province",), ("Gampaha",), ("Colombo",)),
            (("Katunayake",), ("Biyagama",), ("Koggala", "Kogala")),
            ("Katunayake EPZ", "Biyagama EPZ", "Koggala EPZ"),
            ("Negombo Road {n}", "Main Street {n}"),
        ),
    ),
)

TEST = Vocabulary(
    name="test",
    groups=("Epic", "Ha-Meem", "Quantum", "Eclat", "Brandix", "MAS", "Hansae", "Sae-A"),
    filler=(
        "ara", "ben", "cai", "dong", "fu", "guo", "heng", "hui", "kai", "lian", "lin", "mo", "pei", "qing",
        "ren", "rong", "sheng", "shi", "tai", "tong", "xiang", "ya", "yi", "yuan", "zhi", "kun", "fa", "li",
        "ming", "hao", "bo", "chen", "de", "feng", "gao", "jun",
    ),
    countries=(
        CountryVocabulary(
            "KH", "Cambodia", _KH_LEGAL, "ក្រុមហ៊ុន",
            (
                ("Sovann", "សុវណ្ណ"), ("Reaksmey", "រស្មី"), ("Chanthy", "ចន្ធី"), ("Kolab", "កុលាប"),
                ("Meas", "មាស"), ("Thida", "ធីតា"), ("Sambath", "សម្បត្តិ"), ("Vichea", "វិជ្ជា"),
                ("Sopheap", "សុភាព"), ("Kunthea", "គន្ធា"), ("Borey", "បុរី"), ("Sothea", "សុធា"),
                ("Piseth", "ពិសិដ្ឋ"), ("Neary", "នារី"),
            ),
            "Khan",
            (("Takeo", "Takev"), ("Kampong Chhnang", "Kompong Chhnang"), ("Bavet",)),
            (("Sen Sok", "Sensok"), ("Russey Keo", "Ruessei Kaev"), ("Prampi Makara",), ("Chroy Changvar",)),
            ("Sihanoukville SEZ", "Bavet Jaya SEZ", "Poi Pet O'Neal SEZ", "Kampot SEZ"),
            ("Street {n}", "National Road {n}", "Russian Federation Boulevard"),
        ),
        CountryVocabulary(
            "VN", "Vietnam", _VN_LEGAL, "Công ty TNHH May",
            (
                ("Quang Vinh", "Quang Vinh"), ("Thien Phu", "Thiên Phú"), ("Dai Dong", "Đại Đồng"),
                ("Tuong Lai", "Tương Lai"), ("Hanh Phuc", "Hạnh Phúc"), ("Kim Ngan", "Kim Ngân"),
                ("Bao Chau", "Bảo Châu"), ("Truong Son", "Trường Sơn"), ("Lac Hong", "Lạc Hồng"),
                ("Thuan Phat", "Thuận Phát"), ("Ngoc Lan", "Ngọc Lan"), ("Dong Tien", "Đồng Tiến"),
            ),
            "Huyen",
            (("Hai Phong", "Hải Phòng"), ("Nam Dinh", "Nam Định"), ("Long An",)),
            (("Hong Bang", "Hồng Bàng"), ("Ben Luc", "Bến Lức"), ("Y Yen", "Ý Yên"), ("An Duong", "An Dương")),
            ("Dinh Vu Industrial Zone", "Hoa Xa Industrial Zone", "Thuan Dao Industrial Zone"),
            ("Duong so {n}", "Street {n}", "Provincial Road {n}"),
        ),
        CountryVocabulary(
            "BD", "Bangladesh", _BD_LEGAL, "",
            (
                ("Nodi", "নদী"), ("Surjo", "সূর্য"), ("Chandra", "চন্দ্র"), ("Kamal", "কামাল"), ("Rupali", "রূপালী"),
                ("Nishan", "নিশান"), ("Bijoy", "বিজয়"), ("Ananda", "আনন্দ"), ("Shanti", "শান্তি"), ("Prova", "প্রভা"),
                ("Moni", "মণি"), ("Sagor", "সাগর"),
            ),
            "Upazila",
            (("Comilla", "Cumilla"), ("Narayanganj", "Narayangonj"), ("Mymensingh", "Maimansingh")),
            (("Fatullah", "Fatulla"), ("Siddhirganj", "Shiddhirganj"), ("Valuka", "Bhaluka"), ("Rupganj",)),
            ("Comilla EPZ", "Adamjee EPZ", "Meghna Industrial Economic Zone"),
            ("Road {n}", "Holding {n} Ward 5", "Dhaka-Sylhet Highway"),
        ),
        CountryVocabulary(
            "ID", "Indonesia", _ID_LEGAL, "PT",
            tuple((w, "") for w in ("Cahaya", "Gemilang", "Lestari", "Utama", "Permata", "Karya", "Bintang", "Nusa")),
            "Kecamatan",
            (("Jawa Timur", "East Java"), ("Yogyakarta", "Jogjakarta"), ("Bali",)),
            (("Sidoarjo", "Sidoardjo"), ("Pasuruan",), ("Sleman",), ("Gresik",)),
            ("Kawasan Industri Ngoro", "Surabaya Industrial Estate Rungkut", "PIER Pasuruan"),
            ("Jl. Raya Surabaya Km {n}", "Jalan Pahlawan {n}", "Jl. Ahmad Yani No. {n}"),
        ),
        CountryVocabulary(
            "JO", "Jordan", _JO_LEGAL, "شركة",
            (
                ("Khalil", "خليل"), ("Rashid", "راشد"), ("Sultan", "سلطان"), ("Wafa", "وفاء"), ("Jamil", "جميل"),
                ("Nasr", "نصر"), ("Layla", "ليلى"), ("Tariq", "طارق"),
            ),
            "Liwa",
            (("Mafraq", "Mafrak"), ("Karak", "Kerak"), ("Madaba",)),
            (("Sahab Industrial", "Sahhab"), ("Ramtha", "Ar Ramtha"), ("Dhlail",)),
            ("Cyber City", "Al Qastal Industrial Zone", "Aqaba Special Economic Zone"),
            ("Street {n}", "Queen Rania Street"),
        ),
        CountryVocabulary(
            "EG", "Egypt", _EG_LEGAL, "مصنع",
            (
                ("Farouk", "فاروق"), ("Salem", "سالم"), ("Hoda", "هدى"), ("Amira", "أميرة"), ("Tamer", "تامر"),
                ("Nabil", "نبيل"), ("Delta", "الدلتا"), ("Hussein", "حسين"),
            ),
            "Markaz",
            (("Gharbia", "Gharbiya"), ("Port Said", "Bur Said"), ("Ismailia", "Ismailiya")),
            (("Mahalla", "El Mahalla El Kubra"), ("Sadat City", "Madinat El Sadat"), ("Qantara", "Kantara")),
            ("Port Said Investment Zone", "Ismailia Free Zone", "Sadat Industrial Zone"),
            ("Street {n}", "Block {n} Industrial Area"),
        ),
        CountryVocabulary(
            "MM", "Myanmar", _MM_LEGAL, "",
            tuple((w, "") for w in ("Mya", "Khin", "Thant", "Kyaw", "Hlaing", "Wai", "Phyo", "Yadanar")),
            "Township",
            (("Mandalay",), ("Ayeyarwady", "Irrawaddy")),
            (("Pyigyitagon", "Pyigyidagun"), ("Chanmyathazi",), ("Pathein", "Bassein")),
            ("Mandalay Industrial Zone", "Myotha Industrial Park", "Pathein Industrial City"),
            ("Road {n}", "No. {n} Street"),
        ),
        CountryVocabulary(
            "LK", "Sri Lanka", _LK_LEGAL, "",
            tuple((w, "") for w in ("Serendib", "Ceylon", "Dilmah", "Kelani", "Ruwan", "Sanda", "Amaya", "Hiru")),
            "DS Division",
            (("Southern Province",), ("Kurunegala",), ("Kalutara",)),
            (("Horana",), ("Polgahawela", "Polgahawala"), ("Mirigama",)),
            ("Horana EPZ", "Mirigama EPZ", "Polgahawela EPZ"),
            ("Galle Road {n}", "Temple Road {n}"),
        ),
    ),
)
# fmt: on
