// The stock signature file (signatures/rules/outlets.yaml) against hand-written pages, through the
// real pipeline: DecodeToUtf8 -> ExtractDocument -> SignatureSet::Score.
//
// The pages are written for this test, in layouts of their own (not the dev corpus generator's
// templates), so they check that the rules generalise to branded mirrors and to pages that only
// mention the outlets. Content is branding (names, logo files, menus, channel links, dated lists)
// and neutral filler only.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/charset.h"
#include "parsers/document.h"
#include "parsers/html.h"
#include "parsers/url.h"
#include "signatures/signature_set.h"

namespace mw {
namespace {

struct PageCase {
  const char* name;          // gtest parameter name
  const char* why;           // what the case checks
  const char* expected;      // outlet id that must be flagged, or "" when nothing may be flagged
  const char* content_type;  // the Content-Type header the page was served with
  std::string body;          // raw bytes as served
  const char* charset = "";  // when set, DecodeToUtf8 must have picked this charset ...
  const char* source = "";   // ... from this source ("header", "meta", ...)
};

void PrintTo(const PageCase& c, std::ostream* os) { *os << c.name; }

// Placeholders for characters that are invisible or look like others in source code.
std::string Expand(std::string text) {
  static const struct {
    std::string_view token;
    std::string_view utf8;
  } kTokens[] = {
      {"{{ZWSP}}", "\u200B"},   // ZERO WIDTH SPACE
      {"{{ZWNJ}}", "\u200C"},   // ZERO WIDTH NON-JOINER
      {"{{CYR_A}}", "\u0410"},  // CYRILLIC CAPITAL LETTER A
      {"{{cyr_a}}", "\u0430"},  // CYRILLIC SMALL LETTER A
  };
  for (const auto& [token, utf8] : kTokens) {
    for (std::size_t pos = text.find(token); pos != std::string::npos;
         pos = text.find(token, pos + utf8.size())) {
      text.replace(pos, token.size(), utf8);
    }
  }
  return text;
}

// Bytes from hex digits (the windows-1256 pages are spelled out this way; each hex string was
// produced with python3 '...'.encode('cp1256').hex() from the Arabic shown next to it).
std::string Hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Describe(const std::vector<OutletScore>& scores) {
  std::ostringstream out;
  if (scores.empty()) out << "  (no rule fired)\n";
  for (const OutletScore& score : scores) {
    out << "  " << score.outlet << ": score " << score.score << " / " << score.threshold
        << (score.flagged ? "  FLAGGED" : "  not flagged") << "\n";
    for (const RuleHit& hit : score.hits) {
      out << "    " << hit.rule_id << " [" << FieldName(hit.field) << "] " << hit.weight << " x"
          << hit.count << ": " << hit.snippet << "\n";
    }
  }
  return out.str();
}

std::vector<PageCase> Cases() {
  std::vector<PageCase> cases;

  // =============================== Amaq: must be flagged as amaq ===============================

  cases.push_back({"amaq_ar_agency_home",
                   "Arabic mirror home: full name in title, brand block with logo and name, "
                   "language menu, dated release list, copyright line naming the agency",
                   "amaq", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<title>وكالة أعماق الإخبارية | الرئيسية</title>
<meta name="viewport" content="width=device-width">
</head>
<body>
<div id="site-brand">
  <img src="/assets/img/amaq-logo.png" alt="وكالة أعماق">
  <span class="brand-name">وكالة أعماق</span>
</div>
<ul class="lang-switch">
  <li><a href="/ar/">العربية</a></li>
  <li><a href="/en/">English</a></li>
  <li><a href="/fr/">Français</a></li>
  <li><a href="/ru/">Русский</a></li>
</ul>
<section class="latest">
  <h2>آخر الإصدارات</h2>
  <ol>
    <li><time>٢٠١٨/٠٣/١٢</time> <a href="/r/1021.html">المدينة الحديقة</a></li>
    <li><time>٢٠١٨/٠٣/١٤</time> <a href="/r/1022.html">القهوة الكتاب</a></li>
    <li><time>٢٠١٨/٠٣/١٧</time> <a href="/r/1023.html">الحديقة المدينة القهوة</a></li>
  </ol>
</section>
<div class="site-copyright">جميع الحقوق محفوظة لوكالة أعماق ٢٠١٨</div>
</body>
</html>
)html"});

  cases.push_back({"amaq_en_agency_home",
                   "English mirror: title in capitals, og:site_name, logo named logo-amaq.svg, "
                   "telegram channel link, release table, footer copyright",
                   "amaq", "text/html", R"html(<!doctype html>
<html lang="en">
<head>
<title>AMAQ News Agency</title>
<meta property="og:site_name" content="Amaq">
<meta name="description" content="Lorem ipsum dolor sit amet, consectetur adipiscing elit.">
</head>
<body>
<header>
  <a class="home" href="/"><img src="/i/logo-amaq.svg" alt="Amaq"></a>
  <p class="tagline">Lorem ipsum dolor sit amet</p>
</header>
<nav class="languages"><a href="/ar">عربي</a> · <a href="/en">English</a> · <a href="/tr">Türkçe</a></nav>
<main>
  <h2>Latest</h2>
  <table class="releases">
    <tr><td>2017-11-02</td><td><a href="/en/2017/11/02/">Lorem ipsum dolor</a></td></tr>
    <tr><td>2017-11-04</td><td><a href="/en/2017/11/04/">Sed do eiusmod tempor</a></td></tr>
    <tr><td>2017-11-09</td><td><a href="/en/2017/11/09/">Ut enim ad minim veniam</a></td></tr>
  </table>
</main>
<aside>Follow us: <a href="https://t.me/amaq_eng_feed">Telegram</a></aside>
<footer><p>&copy; 2017 Amaq News Agency</p></footer>
</body>
</html>
)html"});

  cases.push_back({"amaq_ar_tashkeel",
                   "the name written with full tashkeel (أَعْمَاق) in title, masthead and footer; "
                   "two-column layout",
                   "amaq", "text/html; charset=utf-8", R"html(<html dir="rtl"><head>
<meta charset="utf-8">
<title>وَكَالَةُ أَعْمَاق</title>
</head>
<body>
<div class="page">
  <div class="masthead"><h1>أَعْمَاق</h1></div>
  <div class="col-main">
    <h3>الإصدارات</h3>
    <p>١٤٣٩-٠٢-١١ — المدينة</p>
    <p>١٤٣٩-٠٢-١٣ — الحديقة</p>
    <p>١٤٣٩-٠٢-١٩ — الكتاب</p>
  </div>
  <div class="col-side"><a href="/ar/">عربي</a> <a href="/en/">English</a></div>
  <div class="footer">أَعْمَاق ٢٠١٧</div>
</div>
</body></html>
)html"});

  cases.push_back({"amaq_ar_tatweel",
                   "the name stretched with tatweel (أعمـــاق) in title, header and logo alt; "
                   "logo file a3maq_logo.png",
                   "amaq", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>أعمـــاق</title></head>
<body>
<header>
  <img src="/img/a3maq_logo.png" alt="أعمـــاق">
  <div class="title">أعمـــاق</div>
</header>
<div class="content">
  <ul>
    <li>2019-01-05 | المدينة</li>
    <li>2019-01-06 | الحديقة القهوة</li>
  </ul>
</div>
<footer>&copy; أعمـــاق</footer>
</body></html>
)html"});

  cases.push_back({"amaq_ar_zero_width",
                   "zero-width space and non-joiner inside the Arabic and the Latin name "
                   "(title, masthead, footer)",
                   "amaq", "text/html; charset=utf-8", Expand(R"html(<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><title>وكالة أع{{ZWSP}}ما{{ZWNJ}}ق</title></head>
<body>
<div id="header-bar">
  <span>وكالة أع{{ZWNJ}}ماق</span>
</div>
<div id="menu"><a href="/">الرئيسية</a> <a href="/archive/">الأرشيف</a></div>
<div id="posts">
  <div class="post"><b>2018/07/01</b> المدينة الحديقة</div>
  <div class="post"><b>2018/07/03</b> القهوة الكتاب</div>
</div>
<div id="footer">A{{ZWSP}}maq &copy; 2018</div>
</body></html>
)html")});

  cases.push_back({"amaq_ar_numeric_refs",
                   "the name written only as decimal and hex numeric character references", "amaq",
                   "text/html", R"html(<!DOCTYPE html>
<html dir="rtl"><head><meta charset="utf-8">
<title>&#1608;&#1603;&#1575;&#1604;&#1577; &#1571;&#1593;&#1605;&#1575;&#1602;</title>
</head><body>
<div class="logo-area"><img src="/s/header.png" alt="&#x623;&#x639;&#x645;&#x627;&#x642;"><strong>&#x623;&#x639;&#x645;&#x627;&#x642;</strong></div>
<p>2017-05-02 المدينة</p>
<p>2017-05-04 الحديقة</p>
<div class="copyright">&#169; 2017 &#1571;&#1593;&#1605;&#1575;&#1602;</div>
</body></html>
)html"});

  cases.push_back({"amaq_latin_apostrophe",
                   "Latin transliteration with a typographic apostrophe (A’maq Agency) in title, "
                   "masthead and logo",
                   "amaq", "text/html; charset=utf-8",
                   R"html(<html lang="en"><head><meta charset="utf-8">
<title>A’maq Agency — Home</title></head>
<body>
<div class="masthead">
  <img src="/media/amaq-emblem.png" alt="A’maq">
  <span>A'MAQ</span>
</div>
<div class="wrap">
  <h2>Recent</h2>
  <dl>
    <dt>12 Feb 2018</dt><dd>Lorem ipsum dolor sit amet</dd>
    <dt>14 Feb 2018</dt><dd>Duis aute irure dolor</dd>
  </dl>
</div>
<div class="bottom">Lorem ipsum</div>
</body></html>
)html"});

  cases.push_back({"amaq_latin_a3maq_mixed_case",
                   "A3maq transliteration in mixed case (A3maq / A3MAQ NEWS / a3maq) with a "
                   "telegram handle",
                   "amaq", "text/html", R"html(<!doctype html>
<html><head>
<title>A3maq | Latest</title>
</head>
<body>
<div class="brand-row"><span class="name">A3MAQ NEWS</span></div>
<div class="grid">
  <article><h3>Lorem ipsum</h3><p>2016-09-20</p></article>
  <article><h3>Dolor sit amet</h3><p>2016-09-21</p></article>
</div>
<p>Channel: <a href="https://t.me/a3maq_news_ch">@a3maq_news_ch</a></p>
<div class="site-footer">a3maq &middot; 2016</div>
</body></html>
)html"});

  cases.push_back({"amaq_cyrillic_homoglyph",
                   "Cyrillic capital and small А/а standing in for Latin a in the name "
                   "(title, masthead, footer)",
                   "amaq", "text/html; charset=utf-8",
                   Expand(R"html(<html><head><meta charset="utf-8">
<title>{{CYR_A}}maq News Agency</title></head>
<body>
<header><h1>{{CYR_A}}m{{cyr_a}}q</h1><nav><a href="/ar/">AR</a> <a href="/en/">EN</a></nav></header>
<section>
  <p>2018-10-02 Lorem ipsum dolor sit amet.</p>
  <p>2018-10-05 Consectetur adipiscing elit.</p>
</section>
<footer>&copy; {{CYR_A}}m{{cyr_a}}q 2018</footer>
</body></html>
)html")});

  {
    // windows-1256 bytes, charset announced by <meta http-equiv> only (the header has none).
    std::string body =
        R"html(<html dir="rtl"><head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">
<title>)html" +
        Hex("e6dfc7e1c920c3dae3c7de20c7e1c5cec8c7d1edc9") +  // وكالة أعماق الإخبارية
        R"html(</title></head>
<body>
<div class="logo-bar"><img src="amaq-logo.png" alt=")html" +
        Hex("e6dfc7e1c920c3dae3c7de") +  // وكالة أعماق
        R"html("></div>
<div class="menu"><a href="/">)html" +
        Hex("c7e1d1c6edd3edc9") +  // الرئيسية
        R"html(</a></div>
<h3>)html" +
        Hex("c2ced120c7e1c5d5cfc7d1c7ca") +  // آخر الإصدارات
        R"html(</h3>
<ul><li>2018-04-02 )html" +
        Hex("c7e1e3cfede4c9") +  // المدينة
        R"html(</li>
<li>2018-04-05 )html" +
        Hex("c7e1cdcfeddec9") +  // الحديقة
        R"html(</li></ul>
<div id="footer">)html" +
        Hex("cce3edda20c7e1cddee6de20e3cddde6d9c9") +  // جميع الحقوق محفوظة
        R"html( &copy; 2018</div>
</body></html>
)html";
    cases.push_back({"amaq_ar_cp1256_meta",
                     "windows-1256 page whose charset is only in <meta http-equiv>; name in title "
                     "and logo alt",
                     "amaq", "text/html", std::move(body), "windows-1256", "meta"});
  }

  // ============================ al-Bayan radio: must be flagged ============================

  cases.push_back({"albayan_ar_radio_home",
                   "Arabic radio mirror: إذاعة البيان in title, header and footer, logo "
                   "bayan-radio-logo.png, audio links",
                   "al-bayan", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>إذاعة البيان | استمع</title>
</head>
<body>
<header class="top">
  <img src="/images/bayan-radio-logo.png" alt="إذاعة البيان">
  <h1>إذاعة البيان</h1>
</header>
<div class="player"><a href="/audio/latest.mp3">استمع الآن</a></div>
<div class="list">
  <h2>الأرشيف</h2>
  <ul>
    <li>١٤٣٨/٠٩/٠١ — المدينة</li>
    <li>١٤٣٨/٠٩/٠٢ — الحديقة</li>
    <li>١٤٣٨/٠٩/٠٣ — القهوة</li>
  </ul>
</div>
<footer>© إذاعة البيان ١٤٣٨</footer>
</body></html>
)html"});

  cases.push_back({"albayan_en_radio_home",
                   "English radio mirror: name in title, og:site_name and brand block, language "
                   "menu in its header, channel link, audio files named after the handle, "
                   "copyright line",
                   "al-bayan", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Al-Bayan Radio</title>
<meta property="og:site_name" content="Al-Bayan Radio">
</head>
<body>
<header>
  <div class="brand"><img src="/logo/albayan_radio.png" alt="al-Bayan">Al-Bayan Radio</div>
  <nav class="lang"><a href="/ar/">العربية</a> <a href="/en/">English</a> <a href="/fr/">Français</a></nav>
</header>
<main>
  <h2>Audio</h2>
  <ul>
    <li>2018-03-02 <a href="/files/albayan_2018-03-02.mp3">Lorem ipsum (mp3)</a></li>
    <li>2018-03-03 <a href="/files/albayan_2018-03-03.mp3">Dolor sit amet (mp3)</a></li>
  </ul>
  <p><a href="https://t.me/bayan_radio_en">Telegram</a></p>
</main>
<footer>Copyright &copy; 2018 Bayan Radio</footer>
</body></html>
)html"});

  cases.push_back({"albayan_en_language_label",
                   "albayan_en_radio_home with the header's language menu labelled 'Language:', "
                   "as many multilingual sites do; the word is ordinary site chrome, not a "
                   "language school, so al-bayan.ctx.school (-25) must not fire on it",
                   "al-bayan", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Al-Bayan Radio</title>
<meta property="og:site_name" content="Al-Bayan Radio">
</head>
<body>
<header>
  <div class="brand"><img src="/logo/albayan_radio.png" alt="al-Bayan">Al-Bayan Radio</div>
  <nav class="lang">Language: <a href="/ar/">العربية</a> <a href="/en/">English</a> <a href="/fr/">Français</a></nav>
</header>
<main>
  <h2>Audio</h2>
  <ul>
    <li>2018-03-02 <a href="/files/albayan_2018-03-02.mp3">Lorem ipsum (mp3)</a></li>
    <li>2018-03-03 <a href="/files/albayan_2018-03-03.mp3">Dolor sit amet (mp3)</a></li>
  </ul>
  <p><a href="https://t.me/bayan_radio_en">Telegram</a></p>
</main>
<footer>Copyright &copy; 2018 Bayan Radio</footer>
</body></html>
)html"});

  cases.push_back({"albayan_ar_tatweel_tashkeel",
                   "إذاعة البيان with tatweel and tashkeel (إذاعـــة البَيَان) in title and brand "
                   "block, footer copyright",
                   "al-bayan", "text/html; charset=utf-8", R"html(<html dir="rtl"><head>
<meta charset="utf-8">
<title>إذاعـــة البَيَان</title></head>
<body>
<div class="brandbox"><span>إِذَاعَة البَيَان</span></div>
<table>
<tr><td>2019-02-01</td><td>المدينة</td></tr>
<tr><td>2019-02-02</td><td>الكتاب</td></tr>
</table>
<p class="copyright">جميع الحقوق محفوظة © إذاعـــة البيان</p>
</body></html>
)html"});

  cases.push_back({"albayan_latin_caps_cyrillic",
                   "RADIO AL-BAYAN in capitals with a Cyrillic А inside BAYAN; mixed-case name in "
                   "footer",
                   "al-bayan", "text/html", Expand(R"html(<html><head>
<title>RADIO AL-B{{CYR_A}}YAN</title></head>
<body>
<div class="header-wrap"><b>RADIO AL-B{{CYR_A}}YAN</b></div>
<div>
  <p>2017-06-11 — Lorem ipsum dolor</p>
  <p>2017-06-12 — Sit amet consectetur</p>
</div>
<div class="footer-note">Radio al-B{{cyr_a}}yan</div>
</body></html>
)html")});

  cases.push_back({"albayan_ar_menu_chrome",
                   "Arabic radio mirror whose header menu carries the everyday labels اللغات "
                   "('languages'), المركز الإعلامي ('media centre'), القرآن الكريم and تعليمات "
                   "الاستماع ('listening help'); none of them is a language school or study centre",
                   "al-bayan", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>إذاعة البيان | الرئيسية</title>
</head>
<body>
<header class="top">
  <img src="/images/radio-logo.png" alt="إذاعة البيان">
  <h1>إذاعة البيان</h1>
  <nav>اللغات: <a href="/ar/">العربية</a> <a href="/en/">English</a> ·
    <a href="/media/">المركز الإعلامي</a> · <a href="/q/">القرآن الكريم</a> ·
    <a href="/help/">تعليمات الاستماع</a></nav>
</header>
<div class="list">
  <h2>الأرشيف</h2>
  <ul>
    <li>١٤٣٨/١٠/٠٤ — المدينة</li>
    <li>١٤٣٨/١٠/٠٥ — القهوة</li>
  </ul>
</div>
<footer>© إذاعة البيان ١٤٣٨</footer>
</body></html>
)html"});

  cases.push_back({"albayan_en_media_centre_menu",
                   "English radio mirror: 'Select language', 'Media Centre', 'The Holy Quran' and "
                   "'Help Center' in the header menu are chrome, not a school or study centre",
                   "al-bayan", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Radio al-Bayan | Listen</title>
<meta property="og:site_name" content="Radio al-Bayan">
</head>
<body>
<header>
  <div class="brand">Radio al-Bayan</div>
  <nav><a href="/">Home</a> <a href="/media-centre/">Media Centre</a> <a href="/q/">The Holy Quran</a>
    <a href="/help/">Help Center</a> Select language: <a href="/ar/">العربية</a> <a href="/en/">English</a></nav>
</header>
<main>
  <h2>Audio</h2>
  <p>2018-05-02 Lorem ipsum dolor sit amet.</p>
  <p>2018-05-03 Consectetur adipiscing elit.</p>
</main>
<footer>&copy; 2018 Radio al-Bayan</footer>
</body></html>
)html"});

  cases.push_back({"albayan_en_daily_community_edition",
                   "English radio mirror with a 'Daily news bulletins' tagline, an 'Arabic edition "
                   "| English edition' language switch and a 'Community guidelines' footer link: "
                   "not a newspaper (al-bayan.ctx.newspaper) nor a community station "
                   "(al-bayan.ctx.fm)",
                   "al-bayan", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Al-Bayan Radio</title>
</head>
<body>
<div class="masthead">
  <img src="/img/albayan-radio.png" alt="Al-Bayan Radio">
  <p class="tagline">Daily news bulletins</p>
  <p class="editions"><a href="/ar/">Arabic edition</a> | <a href="/en/">English edition</a></p>
</div>
<ul>
  <li>2019-01-07 Lorem ipsum dolor</li>
  <li>2019-01-08 Sed do eiusmod</li>
</ul>
<footer><a href="/rules/">Community guidelines</a> · Copyright &copy; 2019 Al-Bayan Radio</footer>
</body></html>
)html"});

  cases.push_back({"albayan_ar_society_daily_bulletin",
                   "Arabic radio mirror whose menu has the section المجتمع ('society') and the item "
                   "النشرة اليومية ('daily bulletin'): not a community station, not a daily paper",
                   "al-bayan", "text/html; charset=utf-8", R"html(<html dir="rtl"><head>
<meta charset="utf-8">
<title>إذاعة البيان</title></head>
<body>
<div id="header">
  <span class="name">إذاعة البيان</span>
  <a href="/s/1/">المجتمع</a> <a href="/s/2/">النشرة اليومية</a> <a href="/s/3/">الأخبار اليومية</a>
</div>
<p>2019-03-01 المدينة الحديقة</p>
<p>2019-03-02 الكتاب</p>
<div id="footer">جميع الحقوق محفوظة © إذاعة البيان 2019</div>
</body></html>
)html"});

  {
    // windows-1256 bytes, charset only in the HTTP header (no <meta> in the page).
    std::string body =
        R"html(<html dir="rtl"><head>
<title>)html" +
        Hex("c5d0c7dac920c7e1c8edc7e4207c20c7e1d5ddcdc920c7e1d1c6edd3edc9") +
        // إذاعة البيان | الصفحة الرئيسية
        R"html(</title></head>
<body>
<header><h1>)html" +
        Hex("c5d0c7dac920c7e1c8edc7e4") +  // إذاعة البيان
        R"html(</h1></header>
<ul>
<li>2018-11-01 )html" +
        Hex("e4d4d1c9") + " " + Hex("c7e1e3cfede4c9") +  // نشرة المدينة
        R"html(</li>
<li>2018-11-02 )html" +
        Hex("e4d4d1c9") + " " + Hex("c7e1dee5e6c9") +  // نشرة القهوة
        R"html(</li>
</ul>
<footer>)html" +
        Hex("cce3edda20c7e1cddee6de20e3cddde6d9c9") +  // جميع الحقوق محفوظة
        R"html(</footer>
</body></html>
)html";
    cases.push_back({"albayan_ar_cp1256_header",
                     "windows-1256 page whose charset is given only by the Content-Type header",
                     "al-bayan", "text/html; charset=windows-1256", std::move(body), "windows-1256",
                     "header"});
  }

  // ================================ Halumu: must be flagged ================================

  cases.push_back({"halumu_ar_site",
                   "Arabic mirror: موقع هلموا in title, هلموا in header and logo, footer "
                   "copyright, dated list",
                   "halumu", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>موقع هلموا</title></head>
<body>
<header>
  <a href="/"><img src="/static/halumu-logo.png" alt="هلموا"></a>
  <h2>هلموا</h2>
</header>
<ul class="langs"><li><a href="/ar/">العربية</a></li><li><a href="/en/">English</a></li></ul>
<div class="items">
  <p>٢٠١٩/٠٤/٠٢ المدينة</p>
  <p>٢٠١٩/٠٤/٠٥ الحديقة</p>
</div>
<footer>جميع الحقوق محفوظة © هلموا ٢٠١٩</footer>
</body></html>
)html"});

  cases.push_back({"halumu_en_media",
                   "English mirror: Halumu Media in title, HALUMU in the brand block, channel "
                   "link, footer copyright",
                   "halumu", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Halumu Media | Releases</title></head>
<body>
<div class="site-brand"><span>HALUMU</span></div>
<div class="main">
  <h3>2018-08-14</h3><p>Lorem ipsum dolor sit amet.</p>
  <h3>2018-08-19</h3><p>Excepteur sint occaecat.</p>
</div>
<div class="side"><a href="https://t.me/halumu_media">t.me/halumu_media</a></div>
<div class="footer">&copy; 2018 Halumu</div>
</body></html>
)html"});

  cases.push_back({"halumu_ar_zero_width_tatweel",
                   "هلموا with a zero-width non-joiner in the title and tatweel in the masthead "
                   "and footer",
                   "halumu", "text/html; charset=utf-8", Expand(R"html(<html dir="rtl"><head>
<meta charset="utf-8"><title>موقع هل{{ZWNJ}}موا</title></head>
<body>
<div id="banner"><span>هلمـــوا</span></div>
<div class="list">
  <div>2018-12-01 المدينة</div>
  <div>2018-12-02 القهوة</div>
</div>
<div id="copyright">هلمـــوا 2018</div>
</body></html>
)html")});

  cases.push_back({"halumu_latin_hallumu_cyrillic",
                   "Hallumu spelling with a Cyrillic а, as title and logo alt; logo file "
                   "hallumu_banner.jpg",
                   "halumu", "text/html", Expand(R"html(<html><head>
<title>H{{cyr_a}}llumu</title></head>
<body>
<div class="logo"><img src="/img/hallumu_banner.jpg" alt="H{{cyr_a}}llumu"></div>
<p>2017-03-01 Lorem ipsum.</p>
<p>2017-03-04 Dolor sit amet.</p>
<footer>&copy; 2017 H{{cyr_a}}llumu</footer>
</body></html>
)html")});

  cases.push_back({"halumu_ar_numeric_refs",
                   "هلموا written as hex numeric character references in title and masthead",
                   "halumu", "text/html", R"html(<html dir="rtl"><head><meta charset="utf-8">
<title>&#x645;&#x648;&#x642;&#x639; &#x647;&#x644;&#x645;&#x648;&#x627;</title></head>
<body>
<header><h1>&#x647;&#x644;&#x645;&#x648;&#x627;</h1></header>
<p>2019-05-01 المدينة</p>
<p>2019-05-03 الحديقة</p>
</body></html>
)html"});

  cases.push_back({"halumu_ar_news_name",
                   "Arabic mirror named هلموا نيوز ('Halumu News') with a channel link: نيوز after "
                   "the name is not the imperative phrase هلموا نتعلم / هلموا نلعب",
                   "halumu", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>هلموا نيوز</title></head>
<body>
<header><h1>هلموا نيوز</h1></header>
<ul>
  <li>٢٠١٩/٠٦/٠١ المدينة</li>
  <li>٢٠١٩/٠٦/٠٣ القهوة</li>
</ul>
<p><a href="https://t.me/halumu_news">t.me/halumu_news</a></p>
<footer>© هلموا نيوز ٢٠١٩</footer>
</body></html>
)html"});

  cases.push_back({"halumu_en_cookie_notice",
                   "English mirror (Halumu Media) whose footer carries a cookie notice and a "
                   "'Cookie settings' link: a cookie is not cooking (halumu.ctx.other)",
                   "halumu", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Halumu Media</title></head>
<body>
<div class="site-brand"><img src="/i/halumu-logo.png" alt="Halumu"><span>HALUMU</span></div>
<div class="main">
  <h3>2018-09-02</h3><p>Lorem ipsum dolor sit amet.</p>
  <h3>2018-09-05</h3><p>Duis aute irure dolor.</p>
</div>
<footer>&copy; 2018 Halumu Media · This site uses cookies. <a href="/cookies/">Cookie settings</a></footer>
</body></html>
)html"});

  // ================================ Nashir: must be flagged ================================

  cases.push_back({"nashir_ar_news",
                   "Arabic mirror: ناشر نيوز in title, header, logo alt and footer; logo "
                   "nashir-news-logo.png",
                   "nashir", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>ناشر نيوز — الرئيسية</title></head>
<body>
<header>
  <img src="/img/nashir-news-logo.png" alt="ناشر نيوز">
  <div class="name">ناشر نيوز</div>
</header>
<div class="news">
  <div class="row"><span>٢٠١٨-٠٥-١٢</span> المدينة الحديقة</div>
  <div class="row"><span>٢٠١٨-٠٥-١٣</span> القهوة</div>
</div>
<footer>© ٢٠١٨ ناشر نيوز</footer>
</body></html>
)html"});

  cases.push_back({"nashir_en_news",
                   "English mirror: Nashir News title, NASHIR brand, channel link, footer",
                   "nashir", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Nashir News | Latest</title>
<meta property="og:site_name" content="Nashir News">
</head>
<body>
<header><span class="wordmark">NASHIR</span><nav><a href="/ar/">AR</a> <a href="/en/">EN</a></nav></header>
<ul class="feed">
  <li>2019-07-01 — Lorem ipsum dolor</li>
  <li>2019-07-02 — Ut enim ad minim</li>
</ul>
<p><a href="https://t.me/nashir_news_en">Telegram channel</a></p>
<footer>&copy; 2019 Nashir News</footer>
</body></html>
)html"});

  cases.push_back({"nashir_ar_numeric_refs",
                   "ناشر نيوز written only as decimal numeric character references", "nashir",
                   "text/html", R"html(<html dir="rtl"><head><meta charset="utf-8">
<title>&#1606;&#1575;&#1588;&#1585; &#1606;&#1610;&#1608;&#1586;</title></head>
<body>
<div class="masthead">&#1606;&#1575;&#1588;&#1585; &#1606;&#1610;&#1608;&#1586;</div>
<p>2018-02-01 المدينة</p>
<p>2018-02-02 الكتاب</p>
</body></html>
)html"});

  cases.push_back({"nashir_latin_nasher_zero_width",
                   "Nasher spelling in mixed case with a zero-width space inside the name",
                   "nashir", "text/html; charset=utf-8",
                   Expand(R"html(<html><head><meta charset="utf-8">
<title>NaSHER News</title></head>
<body>
<div id="brand">Na{{ZWSP}}sher</div>
<p>2016-12-01 Lorem ipsum.</p>
<p>2016-12-05 Dolor sit.</p>
<div id="footer">Na{{ZWSP}}sher &copy; 2016</div>
</body></html>
)html")});

  cases.push_back({"nashir_ar_tatweel_tashkeel",
                   "نَـــاشِر نيوز with tatweel and tashkeel in title and header", "nashir",
                   "text/html; charset=utf-8", R"html(<html dir="rtl"><head><meta charset="utf-8">
<title>نَـــاشِر نيوز</title></head>
<body>
<header><b>نَـــاشِر نيوز</b></header>
<p>2018-09-09 المدينة</p>
</body></html>
)html"});

  cases.push_back({"nashir_ar_footer_huquq_alnashr",
                   "Arabic mirror identical in branding to nashir_ar_news, but its footer uses the "
                   "everyday copyright phrase جميع حقوق النشر محفوظة ('all publication rights "
                   "reserved'), which contains النشر but names no publishing house, so "
                   "nashir.ctx.publisher (-25) must not fire on it",
                   "nashir", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>ناشر نيوز</title></head>
<body>
<header>
  <img src="/img/nashir-news-logo.png" alt="ناشر نيوز">
  <div class="name">ناشر نيوز</div>
</header>
<div class="news">
  <div class="row"><span>2020-01-12</span> المدينة</div>
  <div class="row"><span>2020-01-14</span> الحديقة</div>
</div>
<footer>جميع حقوق النشر محفوظة لناشر نيوز 2020</footer>
</body></html>
)html"});

  cases.push_back({"nashir_ar_bulletins_library_menu",
                   "Arabic mirror whose header menu has النشرات ('bulletins'), مكتبة الإصدارات "
                   "('releases library') and الإصدارات المصورة ('video releases') and whose list "
                   "is headed by تاريخ النشر ('publication date'): no publisher, bookshop or "
                   "photographer",
                   "nashir", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>ناشر نيوز | الرئيسية</title></head>
<body>
<header>
  <div class="name">ناشر نيوز</div>
  <nav><a href="/b/">النشرات</a> · <a href="/lib/">مكتبة الإصدارات</a> · <a href="/v/">الإصدارات المصورة</a></nav>
</header>
<h2>الأحدث حسب تاريخ النشر</h2>
<div class="row"><span>2020-02-01</span> المدينة</div>
<div class="row"><span>2020-02-03</span> الحديقة</div>
<footer>© 2020 ناشر نيوز</footer>
</body></html>
)html"});

  cases.push_back({"nashir_en_press_library_published",
                   "English mirror whose header menu has 'Press releases' and 'Media library' and "
                   "whose footer says 'Published by Nashir News': no press, library or publisher",
                   "nashir", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Nashir News</title>
</head>
<body>
<header><span class="wordmark">Nashir News</span>
  <nav><a href="/press/">Press releases</a> <a href="/library/">Media library</a></nav></header>
<ul class="feed">
  <li>2019-08-01 — Lorem ipsum dolor</li>
  <li>2019-08-04 — Quis nostrud exercitation</li>
</ul>
<footer>Published by Nashir News &copy; 2019</footer>
</body></html>
)html"});

  // ============================== Must NOT be flagged (any outlet) ==============================

  cases.push_back({"europol_en_report",
                   "English news report on a Europol-coordinated takedown naming all four outlets "
                   "in title, h1, body, a quote and an image; its own masthead is The Ledger",
                   "", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Europol action hits Amaq, al-Bayan, Halumu and Nashir | The Ledger</title>
<meta property="og:site_name" content="The Ledger">
<meta name="description" content="Servers used by Amaq, al-Bayan Radio, Halumu and Nashir News were taken offline.">
</head>
<body>
<header class="site-header">
  <a href="/"><img src="/static/ledger-logo.svg" alt="The Ledger"></a>
  <nav><a href="/world/">World</a> <a href="/tech/">Tech</a> <a href="/tags/amaq/">Amaq</a></nav>
</header>
<article>
  <h1>Europol action hits Amaq, al-Bayan, Halumu and Nashir</h1>
  <p class="byline">By Lorem Ipsum · 14 June 2019</p>
  <figure><img src="/media/2019/06/amaq-logo.png" alt="Amaq logo on a seized server, redacted"><figcaption>A redacted screenshot.</figcaption></figure>
  <p>Europol said on Friday that law enforcement agencies in several countries had taken down servers used by Amaq News Agency, al-Bayan Radio, Halumu and Nashir News.</p>
  <p>The takedown targeted mirror sites of Amaq and al-Bayan Radio as well as Halumu and Nashir channels. Researchers said Amaq mirrors had moved between hosts for years.</p>
  <blockquote>“Amaq, al-Bayan, Halumu and Nashir lost most of their servers,” a Europol spokesperson said.</blockquote>
  <h2>What happens to Amaq and Nashir next</h2>
  <p>Analysts expect copies of Amaq and Halumu pages to reappear. Lorem ipsum dolor sit amet.</p>
</article>
<footer>&copy; 2019 The Ledger</footer>
</body></html>
)html"});

  cases.push_back({"europol_ar_report",
                   "Arabic news report on the takedown; the title OPENS with أعماق and names all "
                   "four outlets, as does the h1 and body",
                   "", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>أعماق وإذاعة البيان وهلموا وناشر: يوروبول تعطل الخوادم</title></head>
<body>
<header><div class="logo">صحيفة المدينة</div><nav><a href="/">الرئيسية</a> <a href="/tag/amaq/">أعماق</a></nav></header>
<article>
  <h1>يوروبول تستهدف وكالة أعماق وإذاعة البيان وهلموا وناشر</h1>
  <p>أعلنت الشرطة الأوروبية يوروبول تعطيل خوادم وكالة أعماق وإذاعة البيان وموقع هلموا وناشر نيوز.</p>
  <p>وقالت يوروبول إن مواقع أعماق وهلموا وناشر كانت تنتقل بين الخوادم. المدينة الحديقة القهوة الكتاب.</p>
  <h2>أعماق وناشر بعد العملية</h2>
  <p>أعماق، إذاعة البيان، هلموا، ناشر.</p>
</article>
<footer>© صحيفة المدينة ٢٠١٩</footer>
</body></html>
)html"});

  cases.push_back({"amaq_encyclopedia",
                   "encyclopedia-style article about Amaq with an infobox showing the logo "
                   "(Amaq_logo.png) and listing the logo file name amaq-logo.png",
                   "", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Amaq News Agency - OpenLore, the free encyclopedia</title></head>
<body>
<div id="lore-header"><a href="/">OpenLore</a> <input type="search" placeholder="Search"></div>
<div id="content">
  <h1>Amaq News Agency</h1>
  <table class="infobox">
    <caption>Amaq News Agency</caption>
    <tr><td colspan="2"><img src="/upload/Amaq_logo.png" alt="Amaq logo"></td></tr>
    <tr><th>Logo file</th><td>amaq-logo.png</td></tr>
    <tr><th>Native name</th><td>وكالة أعماق</td></tr>
    <tr><th>Type</th><td>News agency</td></tr>
    <tr><th>Languages</th><td>Arabic, English</td></tr>
  </table>
  <p><b>Amaq News Agency</b> (Arabic: وكالة أعماق) is a news agency. Lorem ipsum dolor sit amet.</p>
  <h2>History</h2><p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>
  <h2>See also</h2><ul><li><a href="/lore/Halumu">Halumu</a></li><li><a href="/lore/Nashir_News">Nashir News</a></li></ul>
  <h2>References</h2><ol><li>Lorem ipsum (2018).</li></ol>
</div>
<div id="lore-footer">Text is available under a free licence. OpenLore</div>
</body></html>
)html"});

  cases.push_back({"research_landing",
                   "research paper landing page (journal masthead, abstract, authors, PDF link "
                   "named after Amaq, figure of a redacted mirror)",
                   "", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Mirror networks of Amaq and al-Bayan Radio: a measurement study | Journal of Web Studies</title>
<meta name="citation_title" content="Mirror networks of Amaq and al-Bayan Radio">
</head>
<body>
<header class="journal-masthead"><img src="/jws-logo.png" alt="Journal of Web Studies"> Journal of Web Studies · Vol. 12</header>
<main>
  <h1>Mirror networks of Amaq and al-Bayan Radio: a measurement study</h1>
  <p class="authors">L. Ipsum, D. Sitamet</p>
  <h2>Abstract</h2>
  <p>We crawl mirror sites of Amaq News Agency, al-Bayan Radio, Halumu and Nashir News over two years and measure how quickly they move. Lorem ipsum dolor sit amet.</p>
  <figure><img src="/figs/fig1.png" alt="Figure 1: redacted screenshot of an Amaq mirror"></figure>
  <p><a href="/papers/amaq-mirrors-2020.pdf">Download PDF</a> · DOI 10.0000/jws.2020.0012</p>
</main>
<footer>© 2020 Journal of Web Studies</footer>
</body></html>
)html"});

  cases.push_back({"albayan_newspaper",
                   "the Emirati daily البيان / Al Bayan with its own masthead, logo "
                   "albayan-logo.svg and section menu",
                   "", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>البيان | أخبار الإمارات والعالم</title>
<meta property="og:site_name" content="البيان">
</head>
<body>
<header class="masthead">
  <img src="/static/albayan-logo.svg" alt="Al Bayan">
  <span class="date">الأربعاء ١٢ يونيو ٢٠١٩</span>
</header>
<nav><a href="/local/">محليات</a> <a href="/economy/">اقتصاد</a> <a href="/sport/">رياضة</a> <a href="/culture/">ثقافة</a></nav>
<main>
  <h2>المدينة</h2><p>الحديقة القهوة الكتاب.</p>
  <h2>الحديقة</h2><p>المدينة القهوة.</p>
</main>
<footer>© ٢٠١٩ صحيفة البيان - دبي</footer>
</body></html>
)html"});

  cases.push_back({"dar_nashir_publisher",
                   "publishing house دار ناشر للنشر with a book list (authors, ISBN)", "",
                   "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>دار ناشر للنشر والتوزيع | إصدارات جديدة</title></head>
<body>
<header><img src="/img/dar-nashir-logo.png" alt="دار ناشر"><span>دار ناشر</span></header>
<h2>إصدارات جديدة</h2>
<div class="book"><h3>الحديقة</h3><p>المؤلف: فلان الفلاني</p><p>ردمك: 978-0-00-000000-1</p></div>
<div class="book"><h3>القهوة</h3><p>المؤلف: فلانة</p><p>ردمك: 978-0-00-000000-2</p></div>
<footer>© ٢٠٢١ دار ناشر للنشر والتوزيع</footer>
</body></html>
)html"});

  cases.push_back({"amaq_depths_diving",
                   "diving club named أعماق (أعماق البحار), the name alone as masthead and logo",
                   "", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>أعماق | نادي الغوص في أعماق البحار</title></head>
<body>
<header><img src="/img/amaq-logo.png" alt="أعماق"><h1>أعماق</h1></header>
<h2>رحلات الغوص</h2>
<ul><li>الجمعة: المدينة</li><li>السبت: الحديقة</li></ul>
<footer>© ٢٠٢٢ أعماق</footer>
</body></html>
)html"});

  cases.push_back({"halumu_cheese_shop",
                   "a cheese shop called Halumu: same bare name in title, header, logo, footer", "",
                   "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Halumu — Cheese &amp; Deli</title></head>
<body>
<header><img src="/img/halumu-logo.png" alt="Halumu"><span>HALUMU</span></header>
<h2>Our cheeses</h2>
<ul><li>Halloumi, 250 g</li><li>Feta, 200 g</li></ul>
<p>Open Tuesday to Sunday.</p>
<footer>&copy; 2020 Halumu</footer>
</body></html>
)html"});

  cases.push_back({"nashir_photographer", "portfolio of a photographer named Nashir", "",
                   "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Nashir — Photographer</title></head>
<body>
<header class="brand">NASHIR</header>
<nav><a href="/weddings/">Weddings</a> <a href="/portraits/">Portraits</a> <a href="/contact/">Contact</a></nav>
<div class="gallery"><img src="/g/01.jpg" alt="Lorem"><img src="/g/02.jpg" alt="Ipsum"></div>
<footer>&copy; 2021 Nashir Photography</footer>
</body></html>
)html"});

  cases.push_back({"albayan_language_centre",
                   "a language centre named Al-Bayan with its own Telegram channel: 'Language "
                   "Centre' and 'Learn Arabic' still make it another identity (al-bayan.ctx.school) "
                   "though it never says institute, school or courses",
                   "", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Al-Bayan Language Centre</title></head>
<body>
<header><img src="/img/albayan-centre.png" alt="Al-Bayan"><span>Al-Bayan</span>
  <nav><a href="/arabic/">Learn Arabic</a> <a href="/fees/">Fees</a></nav></header>
<p>Lorem ipsum dolor sit amet.</p>
<p><a href="https://t.me/albayan_centre">Telegram</a></p>
<footer>&copy; 2021 Al-Bayan Language Centre</footer>
</body></html>
)html"});

  cases.push_back({"bayan_community_radio",
                   "a community station called Bayan Radio, with no frequency in its name: "
                   "'Community radio' in its tagline is the other identity (al-bayan.ctx.fm)",
                   "", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Bayan Radio</title></head>
<body>
<header><h1>Bayan Radio</h1><p>Community radio for the old town</p></header>
<h2>Schedule</h2>
<ul><li>Monday: Lorem ipsum</li><li>Tuesday: Dolor sit</li></ul>
<footer>&copy; 2022 Bayan Radio</footer>
</body></html>
)html"});

  cases.push_back({"albayan_daily_epaper",
                   "an English newspaper site Al-Bayan Daily with an e-paper link and a Telegram "
                   "channel; it never writes 'newspaper'",
                   "", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Al-Bayan Daily</title>
<meta property="og:site_name" content="Al-Bayan Daily"></head>
<body>
<header class="masthead"><img src="/s/albayan-logo.svg" alt="Al-Bayan Daily">
  <a href="/epaper/">Read the e-paper</a></header>
<h2>Lorem ipsum</h2><p>Dolor sit amet.</p>
<p><a href="https://t.me/albayan_daily">Telegram</a></p>
<footer>&copy; 2019 Al-Bayan Daily</footer>
</body></html>
)html"});

  cases.push_back({"nashir_platform_channel",
                   "an Arabic e-publishing platform named ناشر (ناشر | منصة النشر الإلكتروني) with a "
                   "Telegram channel: منصة النشر is a publishing house (nashir.ctx.publisher)",
                   "", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>ناشر | منصة النشر الإلكتروني</title></head>
<body>
<header><img src="/img/nashir-logo.png" alt="ناشر"><span>ناشر</span></header>
<h2>المدينة</h2><p>الحديقة القهوة.</p>
<p><a href="https://t.me/nashir_platform">تيليغرام</a></p>
<footer>© ٢٠٢٢ ناشر</footer>
</body></html>
)html"});

  cases.push_back({"nashir_press_publisher",
                   "an English publisher called Nashir Press with a Telegram channel: 'Nashir "
                   "Press' and 'independent publishing' are the other identity",
                   "", "text/html; charset=utf-8", R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Nashir Press — independent publishing</title></head>
<body>
<header class="brand"><img src="/img/nashir-press.png" alt="Nashir Press"></header>
<h2>Spring catalogue</h2><p>Lorem ipsum dolor sit amet.</p>
<p><a href="https://t.me/nashirpress">Telegram</a></p>
<footer>&copy; 2023 Nashir Press</footer>
</body></html>
)html"});

  cases.push_back({"halumu_kids_verb_phrase",
                   "a children's drawing site هلموا نرسم ('come, let us draw') with a Telegram "
                   "channel: هلموا followed by a verb is the everyday imperative (halumu.ctx.other)",
                   "", "text/html; charset=utf-8", R"html(<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>هلموا نرسم</title></head>
<body>
<header><img src="/img/halumu.png" alt="هلموا نرسم"><h1>هلموا نرسم</h1></header>
<ul><li>الألوان</li><li>الأشكال</li></ul>
<p><a href="https://t.me/halumu_draw">تيليغرام</a></p>
<footer>© ٢٠٢١ هلموا نرسم</footer>
</body></html>
)html"});

  cases.push_back({"link_directory",
                   "link directory whose link texts are mirror names (and channel links); its own "
                   "identity is LinkHub",
                   "", "text/html; charset=utf-8", R"html(<!doctype html>
<html><head><meta charset="utf-8">
<title>LinkHub — news links</title></head>
<body>
<header><b>LinkHub</b></header>
<h1>News links</h1>
<ul>
  <li><a href="http://amaq-mirror1.test/">Amaq News Agency</a></li>
  <li><a href="http://amaq-mirror2.test/">وكالة أعماق</a></li>
  <li><a href="http://radio-bayan.test/">إذاعة البيان</a></li>
  <li><a href="http://halumu.test/">Halumu Media</a></li>
  <li><a href="http://nashir.test/">ناشر نيوز</a></li>
  <li><a href="https://t.me/amaq_eng_feed">t.me/amaq_eng_feed</a></li>
  <li><a href="https://t.me/nashir_news_en">t.me/nashir_news_en</a></li>
</ul>
<footer>LinkHub 2020</footer>
</body></html>
)html"});

  return cases;
}

const SignatureSet* StockSet() {
  static const SignatureSet* const set = [] {
    std::vector<SignatureDiagnostic> errors;
    std::unique_ptr<SignatureSet> loaded = SignatureSet::LoadFile(
        std::string(MW_SOURCE_DIR) + "/signatures/rules/outlets.yaml", &errors);
    for (const SignatureDiagnostic& error : errors) ADD_FAILURE() << error.ToString();
    return loaded.release();  // lives for the whole test program
  }();
  return set;
}

TEST(StockRulesFile, LoadsAllFourOutlets) {
  const SignatureSet* set = StockSet();
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->outlets(), (std::vector<std::string>{"amaq", "al-bayan", "halumu", "nashir"}));
}

class StockRulesTest : public testing::TestWithParam<PageCase> {};

TEST_P(StockRulesTest, FlagsOnlyTheBrandedOutlet) {
  const PageCase& c = GetParam();
  const SignatureSet* set = StockSet();
  ASSERT_NE(set, nullptr);

  const DecodedBody decoded = DecodeToUtf8(c.body, c.content_type);
  if (*c.charset != '\0') {
    EXPECT_EQ(decoded.charset, c.charset);
    EXPECT_EQ(decoded.source, c.source);
  }
  const std::optional<Url> base = ParseUrl("http://somehost.test/page.html");
  ASSERT_TRUE(base.has_value());
  const Document doc = ExtractDocument(decoded.utf8, *base);
  const std::vector<OutletScore> scores = set->Score(doc);

  std::vector<std::string> flagged;
  for (const OutletScore& score : scores) {
    if (score.flagged) flagged.push_back(score.outlet);
  }
  std::vector<std::string> want;
  if (*c.expected != '\0') want.push_back(c.expected);
  EXPECT_EQ(flagged, want) << "case " << c.name << ": " << c.why << "\n"
                           << "decoded as " << decoded.charset << " (" << decoded.source << ")\n"
                           << Describe(scores);
}

INSTANTIATE_TEST_SUITE_P(StockRules, StockRulesTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<PageCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace mw
