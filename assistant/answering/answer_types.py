"""What kind of answer a question expects, and whether a quote holds one.

    kind = expected_kind("How much will the Ninh Thuan plant cost?")       # "number"
    holds(kind, quote, question)                                            # False: no amount in it

Without a reader model the extractive answer cannot tell a quote that answers from one that only
shares the question's words ("What is the population of Hanoi?" → a sentence about a treaty to be
signed in Hanoi). The question word tells what an answer must contain: "how many" a number, "when"
a date, "in 2015" the year 2015, "who", "where" or "which company" a name the question does not
already give, "why" a reason. A quote without it is not an answer (measured in BENCHMARKS.md).
Only English, Vietnamese, Russian, German and Dutch question words are known (the evaluation's
languages and the sample articles'); any other question expects nothing in particular.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# "which company", "at which Yorkshire hotel": the noun that the answer's name names
NAMED_NOUN = (
    r"^((in |at |from |to |for |by )?(which|what) "
    r"|what (is|was|are|were) the names? of (the |a |an |its |their )?)([\w-]+ ){0,2}"
    r"(?P<noun>company|companies|firm|group|organi[sz]ation"
    r"|party|king|queen|judge|politician|minister|president|official|team|club|channels?|hotel"
    r"|town|city|village|country|state|county|province|region|publisher|clinic|university"
    r"|school|college|bank|agency|newspaper|network|studio|brand|person|man|woman|architect"
    r"|players?|author|writer|artist|band|station|airport|stadium|church|court|law school)\b")
# Question word patterns, first match wins; matched against the lower-cased question.
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("percent", re.compile(
        r"\b(what|which) (percentage|percent|proportion|share)\b"
        r"|\b(growth|inflation|unemployment|interest) rate\b"
        r"|\bbao nhiêu phần trăm\b|\btỷ lệ\b|\bсколько процентов\b|\bкакой процент\b|\bwie viel prozent\b"
        r"|\bwachstumsrate\b|\binflationsrate\b")),
    ("money", re.compile(
        r"\bhow much money\b"
        r"|\bhow much\b.*\b(cost|costs|pay|paid|spend|spent|worth|fined|charge|charged|earn|earned"
        r"|raise|raised)\b"
        r"|^what (is|was|were|are|will be) (the )?((?!of\b)[\w']+ ){0,3}(cost|price|budget|fine|salary)\b"
        r"|^(what|how much) (is|was|were|are|will be|did) (the |its |their |his |her )?"
        r"((?!of\b)[\w'’-]+ ){0,3}?"
        r"(net )?(profits?|income|revenues?|earnings|sales)\b(?! (tax|rate|growth))"
        r"|\bwie hoch (war|ist|waren|sind) (der|die|das) \w*(gewinn|umsatz|erlös)\w*\b"
        r"|\bbao nhiêu tiền\b|\bchi phí\b|\bсколько (стоит|стоил|будет стоить)\b|\bстоимость\b"
        r"|\bwie viel (kostet|kostete|kosten)\b|\bkosten\b")),
    ("date", re.compile(
        r"^(when|what year|which year|in what year|in which year|what date|on what date|wanneer)\b"
        r"|\b(in|by) (what|which) year\b|\bnăm nào\b|\bkhi nào\b|\bbao giờ\b|\bngày nào\b|\bnăm bao nhiêu\b"
        r"|^когда\b|\bв каком году\b|\bкакого числа\b|^wann\b|\bin welchem jahr\b|\bseit wann\b")),
    ("number", re.compile(
        r"^how (many|much)\b|\bhow (many|much)\b|^hoeveel\b"
        r"|\bwhat (percentage|percent|proportion|share|number)\b"
        r"|\bhow (long|old|tall|high|far|large|big|fast)\b"
        r"|\bbao nhiêu\b|\bmấy\b|\bсколько\b|\bкакой (длины|высоты|ширины)\b"
        r"|\bкаков[аоы]? (численность|стоимость|длина)\b"
        r"|\bwie (viele?|hoch|lange?|groß|alt|weit)\b"
        r"|^what (is|was|were|are|will be) (the )?((?!of\b)[\w']+ ){0,3}"
        r"(population|cost|price|rate|percentage"
        r"|amount|budget|salary|revenue|value|size|length|height|area|total|death toll|turnout)\b"
        r"|\bdân số\b|\bчисленность населения\b|\beinwohnerzahl\b")),
    ("office", re.compile(
        r"^(?!.*\bplay)(what (is|was|are|were) [\w'’. -]{2,40}?\b(job )?(title|position|post)\b(?! of)"
        r"|what (job|title|position|post) (did|does|do|has|had|will)\b)"
        r"|\bwelche[nrs]? (titel|position|funktion|amt)\b|\bchức (vụ|danh) (gì|nào)\b"
        r"|\bкакую должность\b|\bкакой пост\b")),
    ("reason", re.compile(
        r"^why\b|\bwhat (caused|causes|led to|prompted|triggered|ignited|sparked)\b|\bhow did .+ die\b"
        r"|\b(the )?(reason|cause) (for|of)\b|\btại sao\b|\bvì sao\b|\blý do\b|\bnguyên nhân\b"
        r"|^waarom\b|^почему\b|\bзачем\b|\bпо какой причине\b|\bпричин[аеуы]\b|^(warum|wieso|weshalb)\b"
        r"|\b(grund|ursache)\b")),
    ("name", re.compile(
        r"^(who|whom|whose)\b|^(and |but )?who\b|^where\b|\bwhat (is|was|are|were) the names? of\b"
        r"|\bwhat (is|was|are|were) (it|they|he|she|.+) called\b|\bwhat name\b|"
        + NAMED_NOUN +
        r"|\bai\b|\bở đâu\b|\b(thành phố|nơi|quốc gia|nước|tỉnh|công ty|khách sạn) nào\b|\btên (là )?gì\b"
        r"|^кто\b|\bкем\b|\bкого\b|\bкому\b|^где\b|\bв каком (городе|государстве|отеле|штате)\b"
        r"|\bкак (называется|назывался|называлась|звали|зовут)\b"
        r"|^(wer|wen|wem|wessen|wo)\b|\bin welche[rm]? (stadt|land|hotel|ort)\b"
        r"|\bwie (heißt|hieß|hießen|heißen)\b"
        r"|^wie (is|was|zijn|waren|heeft|hebben|werd|wordt|leidt|leidde)\b|^waar\b")),
)
YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")
DIGITS = re.compile(r"\d")
MONTHS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday|century|centuries|decade|yesterday|today|tomorrow|tháng|thế kỷ|thập niên"
    r"|январ[ья]|феврал[ья]|март[а]?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|август[а]?|сентябр[ья]"
    r"|октябр[ья]|ноябр[ья]|декабр[ья]|век[а]?|januar|februar|märz|mai|juni|juli|oktober|dezember"
    r"|jahrhundert|januari|februari|maart|mei|augustus|maandag|dinsdag|woensdag|donderdag|vrijdag"
    r"|zaterdag|zondag|quarter|kwartaal|quartal|квартал[аеу]?|quý|spring|summer|autumn|winter)\b")
NUMBER_WORDS = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty"
    r"|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|quarter|double|twice"
    r"|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|trăm|nghìn|ngàn|triệu|tỷ|tỉ"
    r"|од(ин|на|но)|два|две|три|четыре|пять|шесть|семь|восемь|девять|десять|сто|тысяч[иа]?"
    r"|миллион(а|ов)?|миллиард(а|ов)?|ein|eine|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn"
    r"|hundert|tausend|millionen|milliarden?)\b")

# Vietnamese ordinals and weekdays ("thứ hai": second, Monday) are no count
ORDINAL = re.compile(r"\bthứ \w+")

PERCENT = re.compile(r"%|\bper ?cent\b|\bpercentage points?\b|\bphần trăm\b|\bпроцент|\bprozent")
MONEY = re.compile(
    r"[$€£¥₫₽]|\b(dollars?|usd|euros?|eur|pounds?|yen|yuan|rubles?|roubles?|vnd|dong|đồng|cents?"
    r"|francs?|rupees?)\b|\b(долл|евро|рубл)")

# "$230,000", "12 percent", "€ 5": numbers that are amounts, no part of a date
AMOUNT = re.compile(r"[$€£¥₫₽]\s?\d[\d.,]*|\d[\d.,]*\s?(%|per ?cent\b|percent\b)")

REASON = re.compile(
    r",\s*as\b|\b\w+ed (\w+ ){0,5}for\b|\bfor \w+ (purposes|reasons)\b"
    r"|\b(because|due to|owing to|thanks to|as a result|result of|caused|causing|cause[sd]?"
    r"|in order to|so that|reasons?|blamed|led to|after|following|amid|died (of|from)|killed"
    r"|vì|do|bởi|nên|nhờ|nguyên nhân|lý do|để"
    r"|потому что|из-за|так как|поскольку|вследствие|благодаря|причин|чтобы|после"
    r"|weil|wegen|aufgrund|denn|da|grund|ursache|nachdem|damit|um)\b")
WHO = re.compile(r"^(and |but )?(who|whom)\b|\b(what|which) group of\b|\bai\b|^кто\b|^(wer|wen|wem)\b")
PEOPLE = re.compile(
    r"\b(famil(y|ies)|residents?|villagers?|officials?|authorities|police|workers?|volunteers?"
    r"|students?|teachers?|doctors?|nurses?|scientists?|researchers?|farmers?|soldiers?|experts?"
    r"|artisans?|craftsmen|fishermen|engineers?|lawyers?|judges?|voters?|parents?|children|women|men"
    r"|people|neighbou?rs?|locals|[^\W\d_]{3,}(ists|ians)|monks?|inmates?|prisoners?|band|team|government|ministry"
    r"|gia đình|người dân|cư dân|nông dân|công nhân|chính quyền|семь[ия]|жител\w*|рабоч\w*|власти"
    r"|familien?|bewohner|einwohner|arbeiter|behörden?|polizei)\b")
# Capitalised words that are not names: titles, and the first word of a sentence is skipped.
NOT_NAMES = frozenset({"mr", "mrs", "ms", "dr", "sir", "the", "a", "an", "in", "on", "at", "but", "and",
                       "he", "she", "it", "they", "we", "i", "his", "her", "their", "this", "that"})
CAPITALISED = re.compile(r"(?<![\w.])(?:(?:[A-Z]\.){2,}|[^\W\d_][\w'’-]*)", re.UNICODE)
# "Vietnamese", "English", "Russische", "Israeli-Palestinian": capitalised, yet no one's name
ADJECTIVE_OF_A_PLACE = re.compile(r"(ese|ish|isch|ische|ees|eese)$|^[^\W\d_]+-[^\W\d_]+$")
TITLE = re.compile(r"\b(Mr|Mrs|Ms|Dr|St|Gen|Gov|Sen|Rep|Prof|Lt|Col|Capt|Sgt)\.$")

# Words that introduce a name: "…the law firm that filed the brief, now called Sidley Austin"
CALLED = re.compile(r"called|named|dubbed|gọi|genannt|heißt|genaamd|heet|называем\w*|под названием")
TITLED = re.compile(r"\b(Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame)\.?\s+[^\W\d_][\w'’-]*")
# The nouns of "which hotel", "what company"… in the other languages of the articles, so that a quote
# in Vietnamese, German, Dutch or Russian is read for them too.
NOUN_IN: dict[str, tuple[str, ...]] = {
    "hotel": ("khách sạn", "отел", "гостиниц"),
    "company": ("công ty", "firma", "unternehmen", "bedrijf", "компани"),
    "companies": ("công ty", "firmen", "unternehmen", "bedrijven", "компани"),
    "city": ("thành phố", "stadt", "stad", "город"),
    "town": ("thị trấn", "stadt", "stad", "город"),
    "country": ("quốc gia", "стран"),
    "party": ("đảng", "partei", "partij", "парти"),
    "team": ("đội", "mannschaft", "ploeg", "команд"),
    "club": ("câu lạc bộ", "verein", "клуб"),
    "university": ("đại học", "universität", "universiteit", "университет"),
    "bank": ("ngân hàng", "банк"),
    "newspaper": ("tờ báo", "zeitung", "krant", "газет"),
    "church": ("nhà thờ", "kirche", "kerk", "церк"),
    "stadium": ("sân vận động", "stadion", "стадион"),
    "airport": ("sân bay", "flughafen", "luchthaven", "аэропорт"),
}
# "how many colleges": English only (German "wie viele" was tried: its answers, quoted from English
# articles, never name the noun in German)
COUNTED = re.compile(r"^how many (?P<noun>\w+)")
NOT_COUNTED = frozenset({"of", "times", "more", "people", "were", "are", "did", "do", "does", "have", "has"})
DURATION_ASKED = re.compile(
    r"\bhow long\b|\bwie lange?\b|\bbao lâu\b|\bкак долго\b|\bсколько (лет|времени)\b")
DURATION = re.compile(
    r"\b(years?|months?|weeks?|days?|hours?|minutes?|decades?|centuries|jahren?|monaten?|wochen?"
    r"|tagen?|stunden?|jahrzehnten?|лет|годы?|года|месяц\w*|недел\w*|дн\w+|час\w*|năm|tháng|tuần"
    r"|ngày|giờ|phút|thập kỷ)\b")


# "The suspect, whose name was not released…", "There was no immediate reaction from…": the
# sentence says the article does not know what was asked, so it holds no answer.
WITHHELD = re.compile(
    r"\b(name|identit(y|ies)|details|cause|amount|terms|price|figure)s? (was|were|has|have|had|is|are)"
    r" not (yet |immediately )?(been )?(released|disclosed|made public|revealed|known|available|given)\b"
    r"|\bno immediate (reaction|comment|response|word|explanation)\b"
    r"|\bdeclined to (comment|say|disclose|identify|name|specify|elaborate)\b"
    r"|\b(did|would|could) not (say|disclose|specify|reveal|identify|name)\b"
    r"|\b(không|chưa) (được )?(tiết lộ|công bố)\b"
    r"|\bне (сообщается|раскрывается|называется|уточняется)\b|\bотказал\w* от комментари"
    r"|\b(wurde|wurden) nicht (genannt|bekannt gegeben|veröffentlicht)\b"
    r"|\b(wollte|wollten) sich nicht äußern\b"
    r"|\b(werd|werden) niet (bekendgemaakt|genoemd|vrijgegeven)\b|\bwilde(n)? niet zeggen\b")


WHAT_NOUN = re.compile(r"^(what|which) (?P<noun>[^\W\d_]{4,}) (?!is|was|are|were|of|in|on|at|to|for|and)")


def unspecified(sentence: str, asked: str) -> bool:
    """"What parasite caused…?" → "…caused by a parasite was suspected": the sentence speaks of a
    parasite, of no particular one (the noun only ever after "a", "an", "some", "any")."""
    what = WHAT_NOUN.search(asked)
    if not what:
        return False
    text = normal(sentence)
    mentions = list(re.finditer(rf"\b{re.escape(what.group('noun'))}s?\b", text))
    return bool(mentions) and all(re.search(r"\b(a|an|any|some)\s+(\w+\s+)?$", text[: mention.start()])
                                  and not text[mention.end():].startswith(" of ") for mention in mentions) \
        and not re.search(r"\b(called|named|known as)\b", text)


def withheld(sentence: str) -> bool:
    """Does the sentence say that something is not known or not told ("whose name was not
    released", "declined to comment")?"""
    return WITHHELD.search(normal(sentence)) is not None


# "Which federal judge…", "Which Castilian king…": news names an office holder with the office ("Judge
# Carlton Reeves", "King Henry III"), so a quote in the question's language that never says "judge"
# names none (Ms. Smith, the plaintiff, is no judge). Roles named by their work are left out: "What
# artist provided the woodcuts?" → "…woodcuts by Lucas Cranach".
ROLES = frozenset({"king", "queen", "judge", "politician", "minister", "president", "official"})
# Nouns of NAMED_NOUN that a person's name answers; for any other, "Ms. Francik" names nothing
PERSONS = ROLES | {"person", "man", "woman", "architect", "player", "players", "author", "writer", "artist"}
# "Who is the director of…", "Wie is de directeur van…", "Ai là giám đốc…", "Who founded…": the same,
# asked with "who", and read in any language: each office with its names (and the verbs that say it)
# in the languages the articles are in.
OFFICES: tuple[tuple[str, ...], ...] = (
    ("director", "directs", "directed", "directeur", "direktor", "giám đốc", "директор"),
    ("president", "präsident", "tổng thống", "chủ tịch", "президент"),
    ("chairman", "chairwoman", "chair", "chaired", "voorzitter", "vorsitzende", "chủ tịch", "председател"),
    ("chief executive", "ceo", "geschäftsführer", "tổng giám đốc", "giám đốc điều hành", "генеральн"),
    ("mayor", "burgemeester", "bürgermeister", "thị trưởng", "мэр"),
    ("governor", "gouverneur", "thống đốc", "губернатор"),
    ("prime minister", "premier", "minister-president", "ministerpräsident", "thủ tướng", "премьер"),
    ("ambassador", "ambassadeur", "botschafter", "đại sứ", "посол"),
    ("coach", "coached", "trainer", "huấn luyện viên", "тренер"),
    ("founder", "founded", "oprichter", "opgericht", "gründer", "gegründet", "người sáng lập", "thành lập",
     "основател", "основал"),
    ("leader", "head", "heads", "headed", "led", "leads", "runs", "run by", "leider", "leidt", "leidde",
     "leiter", "leitet", "leitete", "führt", "führte", "anführer", "trưởng nhóm", "người đứng đầu",
     "đứng đầu", "lãnh đạo", "dẫn đầu", "руководител", "руковод", "лидер", "глава", "возглав"),
    ("architect", "architekt", "kiến trúc sư", "архитектор", "designed", "entworfen", "ontworpen", "thiết kế",
     "спроектир"),
)
HOLDER_OF = re.compile(
    r"^(who (is|was|are|were) (the |its |their )?([\w-]+ ){0,2}?"
    r"|who (?=(led|leads|headed|heads|directed|directs|founded|designed|coached|chaired)\b)"
    r"|wie (?=(leidt|leidde|leiden)\b)|wer (?=(leitet|leitete|führt|führte)\b)"
    r"|ai (?=(lãnh đạo|đứng đầu|dẫn đầu)\b)|кто (?=(возглав|руковод))"
    r"|wie (is|was|zijn|waren) (de |het )?"
    r"|wer (ist|war) (der |die )?|ai (là|đang là|từng là) |кто (является |был |была )?)"
    r"(?P<office>" + "|".join(sorted({name for names in OFFICES for name in names}, key=len, reverse=True))
    + r")")


# "What is his title?": any office, in any of the languages
OFFICE_WORDS = {name for names in OFFICES for name in names} | ROLES | {
    "chief", "executive", "officer", "manager", "editor", "secretary", "head of", "vice", "deputy", "partner",
    "producer", "leiter", "vorsitz", "chef", "trưởng", "phó", "руководител", "заместител"}
OFFICE_NAMES = re.compile(r"(?<!\w)(" + "|".join(sorted(OFFICE_WORDS, key=len, reverse=True)) + ")")


def holds_office(quote: str, asked: str) -> bool | None:
    """Does the quote name the office the question asks the holder of ("Who is the director of
    the Russian Center?" → "…Murashkin, director of the Russian Center…"), in any language? None
    when the question asks for no office."""
    office = HOLDER_OF.search(asked)
    if not office:
        return None
    names = {name for names in OFFICES if office.group("office") in names for name in names}
    if "leader" in names:  # whoever heads something holds some office: "Who heads the center?" → "director"
        return OFFICE_NAMES.search(quote) is not None
    return any(re.search(rf"(?<!\w){re.escape(name)}", quote) for name in names)


def normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def expected_kind(question: str) -> str:
    """'percent', 'money', 'date', 'number', 'office', 'reason', 'name' or '' (nothing in particular)."""
    text = normal(question).strip()
    for kind, pattern in KINDS:
        if pattern.search(text):
            return kind
    return ""


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)*", text))


def holds(kind: str, quote: str, question: str, same_language: bool | None = None) -> bool:
    """Does ``quote`` contain an answer of ``kind`` that the question does not already state? A quote
    saying the answer is not known or not told (``withheld``) holds none, of any kind.

    Some checks read the quote for the question's own words ("how many colleges" → "colleges"):
    only a quote in the question's language can fail them. ``same_language`` says whether it is; when
    unknown (None), a quote sharing two of the question's words is taken to be."""
    if withheld(quote):
        return False
    if not kind:
        return True
    text, asked = normal(quote), normal(question)
    new_numbers = _numbers(text) - _numbers(asked)
    if kind == "percent":
        return bool(PERCENT.search(text))
    if kind == "money":
        return bool(MONEY.search(text)) and bool(new_numbers or NUMBER_WORDS.search(text))
    if kind == "reason":
        return bool(REASON.search(text))
    if kind == "office":
        return bool(OFFICE_NAMES.search(text))
    if kind == "name":
        if holds_office(text, asked) is False:
            return False
        noun = re.search(NAMED_NOUN, asked)
        if noun:
            found = names_near(quote, asked, noun.group("noun"))
            if found is not None:
                return found
            if same_language and noun.group("noun") in ROLES:
                return False
        if new_names(quote, question):
            return True
        # "Who makes the lanterns?" — "local families": people named by what they are
        return bool(WHO.search(asked)) and bool(set(PEOPLE.findall(text)) - set(PEOPLE.findall(asked)))
    if kind == "number":
        if DURATION_ASKED.search(asked) and DURATION.search(text):
            return True
        counted = COUNTED.search(asked)
        if counted and counted.group("noun") not in NOT_COUNTED and not counted.group("noun").endswith("ed"):
            if same_language is None:
                same_language = len(stems(text, longer_than=3) & stems(asked, longer_than=3)) >= 2
            found = counts(text, asked, counted.group("noun"), same_language)
            if found is not None:
                return found
        return bool(new_numbers) or bool(set(NUMBER_WORDS.findall(ORDINAL.sub(" ", text)))
                                         - set(NUMBER_WORDS.findall(asked)))
    years = {y for y in YEAR.findall(text)} - set(YEAR.findall(asked))
    dates = new_numbers - _numbers(" ".join(m.group() for m in AMOUNT.finditer(text)))
    return bool(years) or bool(dates) or bool(MONTHS.search(text))


def quote_holds(kind: str, quote: Sequence[str], question: str, same_language: bool | None = None) -> bool:
    """Does a quote (its best sentence first) hold an answer of ``kind``? One of its sentences must
    (``holds``); and when the best one speaks of the thing asked for without naming it ("Which
    companies…?" → "…to divest from three companies that…"; "What parasite…?" → "…by a parasite"),
    the sentences after it answer something else. (Any sentence instead of the best one: coqa +0.4,
    nyt +0.5.)"""
    asked = normal(question)
    noun = re.search(NAMED_NOUN, asked) if kind == "name" else None
    if noun and quote and names_near(quote[0], asked, noun.group("noun")) is False:
        return False
    if quote and unspecified(quote[0], asked):
        return False
    return any(holds(kind, sentence, question, same_language) for sentence in quote)


def missing_years(question: str, passage: str) -> set[str]:
    """The years of the question that the passage does not mention: "in 2015" asked of a story
    about 2002."""
    return set(YEAR.findall(normal(question))) - set(YEAR.findall(normal(passage)))


def new_names(quote: str, question: str) -> set[str]:
    """Names in ``quote`` that the question does not contain: capitalised words and acronyms, the
    candidates for "who", "where" and "which company" answers. Titles do not count, nor a
    sentence's first word unless a capitalised word follows it ("Dr. Lam", "Crédit Agricole"): on its
    own it is as often a plain word ("Officials point to…") as a name."""
    asked = stems(normal(question))
    words = list(CAPITALISED.finditer(quote))
    names = set()
    for number, match in enumerate(words):
        word = match.group()
        lowered = normal(word).strip("'’-.")
        if not word[0].isupper() or lowered in NOT_NAMES or MONTHS.fullmatch(lowered) \
                or ADJECTIVE_OF_A_PLACE.search(lowered) \
                or lowered.replace(".", "")[:5] in asked:
            continue
        before = quote[: match.start()].rstrip()
        starts_sentence = not before or (before[-1] in ".!?:;\"“«—-(" and not TITLE.search(before))
        if starts_sentence:
            after = words[number + 1] if number + 1 < len(words) else None
            if after is None or not after.group()[:1].isupper() \
                    or quote[match.end():after.start()].strip() not in ("", "."):
                continue
        names.add(word)
    return names


def counts(text: str, asked: str, noun: str, same_language: bool) -> bool | None:
    """Does ``text`` count ``noun`` ("how many colleges" → "… 400 colleges")? A number the
    question does not give, at most four words before the noun (by its first five letters). A quote
    in the question's language that never names the noun does not count it ("How many fans
    attended?" → "In front of a friendly crowd…"); None when the quote is in another language (it
    cannot be read for the noun)."""
    words = [word.strip(".,()") for word in re.findall(r"[^\s\-–]+", text)]
    known = _numbers(asked) | set(NUMBER_WORDS.findall(asked))
    named = False
    for at, word in enumerate(words):
        if word[:5] != noun[:5]:
            continue
        named = True
        for before in words[max(0, at - 4):at]:
            if (DIGITS.search(before) or NUMBER_WORDS.fullmatch(before)) and before not in known:
                return True
    if named:
        return False
    return False if same_language else None


def names_near(quote: str, asked: str, noun: str) -> bool | None:
    """Does ``quote`` name a ``noun`` ("which hotel" → "… at the Simonstone Hall hotel", or "…các
    khách sạn ở New York" in a Vietnamese quote)? A new name at most four words from the noun; None
    when the quote never uses the noun, which may still name the thing ("In what city…?" → "…the
    synod in Cleveland"; requiring the noun cost nyt 3 points)."""
    words = list(re.finditer(r"[^\s\-–]+", quote))
    lowered = quote.lower()  # offsets as in the quote (lower() keeps its length but for a few letters)
    translations = NOUN_IN.get(noun, ()) if len(lowered) == len(quote) else ()
    other = {found.start() for name in translations
             for found in re.finditer(rf"(?<!\w){re.escape(name)}", lowered)}
    places = {at for at, word in enumerate(words)
              if normal(word.group()).strip(".,()\"'“”")[:5] == noun[:5] or word.start() in other}
    for at in sorted(places):
        after = 4  # or 8 when the name is introduced: "the law firm that filed it, now called Sidley Austin"
        if any(CALLED.fullmatch(word.group().lower()) for word in words[at + 1: at + 8]):
            after = 8
        window = quote[words[max(0, at - 4)].start(): words[min(len(words) - 1, at + after)].end()]
        if noun not in PERSONS:
            window = TITLED.sub(" ", window)  # "…at the clinic, Ms. Francik…": a person, not the clinic
        if new_names(window, asked):
            return True
    return False if places else None


def stems(text: str, longer_than: int = 0) -> set[str]:
    """The first five letters of each word of ``text`` (of more than ``longer_than`` letters)."""
    return {word[:5] for word in re.findall(r"\w+", text) if len(word) > longer_than}
