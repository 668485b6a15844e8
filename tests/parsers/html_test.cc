#include "parsers/html.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "parsers/utf8.h"

namespace mw {
namespace {

Url PageUrl() { return *ParseUrl("http://host.test/section/page.html"); }

Document Extract(const std::string& html) { return ExtractDocument(html, PageUrl()); }

// One field of one small page.
struct FieldCase {
  const char* why;
  std::string html;
  Field field;
  std::string expected;
};

TEST(ExtractDocument, Fields) {
  const FieldCase cases[] = {
      {"title, entities decoded, whitespace collapsed",
       "<title>  Amaq\n News &amp; Reports </title>", Field::kTitle, "Amaq News & Reports"},
      {"numeric character references decoded", "<title>وكالة &#1571;عماق &#x623;</title>",
       Field::kTitle, "وكالة أعماق أ"},
      {"only the first title", "<title>One</title><body><title>Two</title>", Field::kTitle, "One"},
      {"svg title is not the page title", "<body><svg><title>Icon</title></svg>", Field::kTitle,
       ""},
      {"og:site_name, application-name, twitter:site",
       "<meta property=og:site_name content='Amaq Agency'><meta name=application-name "
       "content=AmaqApp><meta name=TWITTER:SITE content='@amaq_test'>",
       Field::kSiteName, "Amaq Agency\nAmaqApp\n@amaq_test"},
      {"description, keywords, og:title, og:description; not other meta",
       "<meta name=description content='Lorem ipsum'><meta name=keywords content='dolor, sit'>"
       "<meta property=og:title content=Amet><meta property=og:description content=Consectetur>"
       "<meta name=author content=Nobody><meta name=viewport content=width=device-width>",
       Field::kMeta, "Lorem ipsum\ndolor, sit\nAmet\nConsectetur"},
      {"h1-h3, one per line, nested markup inside",
       "<h1>First <em>heading</em></h1><h2>Second</h2><h3>Third</h3><h4>Fourth</h4>",
       Field::kHeadings, "First heading\nSecond\nThird"},
      {"<header> and brand/logo/banner/masthead classes and ids, case-insensitive",
       "<header><span>Amaq</span> Agency</header><div class='Navbar-Brand'>Brand</div>"
       "<div id=site-logo>Logo text</div><p class=banner>Banner</p><div id=MastHead>Mast</div>"
       "<div class=content>Not masthead</div>",
       Field::kMasthead, "Amaq Agency\nBrand\nLogo text\nBanner\nMast"},
      {"a masthead inside a masthead counts once",
       "<header><div class=brand>Amaq</div><div class=logo>News</div></header>", Field::kMasthead,
       "Amaq\nNews"},
      {"a class on <body> does not make the whole page a masthead",
       "<body class='has-header'><p>Lorem</p><div class=header>Top</div>", Field::kMasthead, "Top"},
      {"<footer> and footer/copyright classes",
       "<footer>Lorem 2024</footer><div class='site-Footer'>Ipsum</div>"
       "<span id=copyright>Dolor</span><p>Not footer</p>",
       Field::kFooter, "Lorem 2024\nIpsum\nDolor"},
      {"img alt and file name: last segment, decoded, no query; input type=image too",
       "<img alt='Amaq' src='/img/amaq-logo.png?v=3'><img src='https://cdn.test/a/b/%D8%A3.svg#x'>"
       "<img alt='  Two  words '><input type=IMAGE src='/btn/go%20button.gif' alt=Go>"
       "<input type=text alt=Ignored><img src='data:image/png;base64,AAAA' alt=Inline>",
       Field::kLogo, "Amaq\namaq-logo.png\nأ.svg\nTwo words\nGo\ngo button.gif\nInline"},
      {"href as written and link text, one per line",
       "<a href=' news/ '>News <b>today</b></a><a href='javascript:void(0)'>JS</a>"
       "<a href='#top'></a><a name=anchor>No href</a>"
       "<map><area href='/area' alt='Area text'></map>",
       Field::kLinks, "news/\nNews today\njavascript:void(0)\nJS\n#top\n/area\nArea text"},
      {"blockquote and q",
       "<blockquote><p>Lorem</p><p>ipsum</p></blockquote><p>He said "
       "<q>dolor sit</q> today</p>",
       Field::kQuote, "Lorem\nipsum\ndolor sit"},
      {"body: blocks and br separate words, inline markup does not",
       "<p>Alpha</p><p>Beta</p><div>Gam<b>ma</b><br>Delta</div><ul><li>One<li>Two</ul>"
       "<table><tr><td>Cell1<td>Cell2</table>",
       Field::kBody, "Alpha\nBeta\nGamma\nDelta\nOne\nTwo\nCell1\nCell2"},
      {"body: adjacent links and images do not glue",
       "<nav><a href=/a>News</a><a href=/b>Sport</a></nav>x<img src=i.png>y", Field::kBody,
       "News Sport\nx y"},
      {"body: script, style, noscript, template, head and title excluded",
       "<head><title>Title</title><style>.x{color:red}</style><script>var s='code';</script>"
       "</head><body><p>Visible</p><script>hidden()</script><noscript>Enable JS</noscript>"
       "<template><p>Template</p></template><style>p{}</style><p>Text</p>",
       Field::kBody, "Visible\nText"},
      {"body: entities and &nbsp; become text and spaces",
       "<p>Lorem&nbsp;&nbsp;ipsum &lt;dolor&gt; &quot;sit&quot;&#32;amet</p>", Field::kBody,
       "Lorem ipsum <dolor> \"sit\" amet"},
      {"body: Arabic text with whitespace runs",
       "<p>الطقس   اليوم\n\tمعتدل</p><p>المكتبة العامة</p>", Field::kBody,
       "الطقس اليوم معتدل\nالمكتبة العامة"},
      {"url and host come from the fetched URL", "<base href='http://mirror.test/'>", Field::kUrl,
       "http://host.test/section/page.html"},
      {"host", "", Field::kHost, "host.test"},
  };
  for (const FieldCase& c : cases) {
    SCOPED_TRACE(c.why);
    const Document doc = Extract(c.html);
    EXPECT_EQ(doc.text(c.field), c.expected) << "field " << FieldName(c.field);
  }
}

TEST(ExtractDocument, EnglishPage) {
  const std::string html = R"html(<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Amaq News</title>
<base href="/mirror/">
<meta property="og:site_name" content="Amaq">
<link rel="stylesheet" href="/style.css">
<link rel="Canonical alternate" href="/canonical/page?id=1#c">
<script>document.write("not text")</script>
</head>
<body>
<header><a href="/"><img alt="Amaq" src="/img/amaq-logo.png"></a><h1>Amaq News</h1></header>
<nav><ul><li><a href="news/">News</a></li><li><a href="https://Other.TEST:443/x#y">Other <b>site</b></a></li>
<li><a href="mailto:desk@host.test">Mail</a></li><li><a href="javascript:void(0)">JS</a></li></ul></nav>
<main><h2>Lorem ipsum</h2><p>Dolor sit amet, consectetur adipiscing elit.</p>
<blockquote>Sed do eiusmod tempor.</blockquote></main>
<footer>Copyright Amaq</footer>
</body></html>)html";
  const Document doc = Extract(html);
  EXPECT_EQ(doc.text(Field::kTitle), "Amaq News");
  EXPECT_EQ(doc.text(Field::kSiteName), "Amaq");
  EXPECT_EQ(doc.text(Field::kMasthead), "Amaq News");
  EXPECT_EQ(doc.text(Field::kHeadings), "Amaq News\nLorem ipsum");
  EXPECT_EQ(doc.text(Field::kLogo), "Amaq\namaq-logo.png");
  EXPECT_EQ(doc.text(Field::kFooter), "Copyright Amaq");
  EXPECT_EQ(doc.text(Field::kQuote), "Sed do eiusmod tempor.");
  EXPECT_EQ(doc.text(Field::kBody),
            "Amaq News\nNews\nOther site\nMail\nJS\nLorem ipsum\n"
            "Dolor sit amet, consectetur adipiscing elit.\nSed do eiusmod tempor.\nCopyright Amaq");
  EXPECT_EQ(doc.base_href, "http://host.test/mirror/");
  EXPECT_EQ(doc.canonical, "http://host.test/canonical/page?id=1");
  ASSERT_EQ(doc.links.size(), 3u);  // mailto: and javascript: are not links to follow
  EXPECT_EQ(doc.links[0].url, "http://host.test/");
  EXPECT_EQ(doc.links[0].text, "");
  EXPECT_EQ(doc.links[1].url, "http://host.test/mirror/news/");
  EXPECT_EQ(doc.links[1].text, "News");
  EXPECT_EQ(doc.links[2].url, "https://other.test/x");
  EXPECT_EQ(doc.links[2].text, "Other site");
}

TEST(ExtractDocument, ArabicPage) {
  const std::string html = R"html(<html lang="ar" dir="rtl"><head>
<title>وكالة &#1571;عماق</title>
<meta property="og:site_name" content="وكالة أعماق">
<meta name="description" content="الأخبار &amp; التقارير">
</head><body>
<div class="navbar-brand"><img src="/صور/شعار.png" alt="أعماق"> أعماق</div>
<h1>الأخبار</h1>
<p>الطقس&nbsp;اليوم معتدل</p><p>المكتبة العامة</p>
<a href="/أخبار/اليوم">أخبار اليوم</a>
<blockquote>قال الرجل</blockquote>
<div id="Footer-Area">جميع الحقوق محفوظة</div>
</body></html>)html";
  const Document doc = Extract(html);
  EXPECT_EQ(doc.text(Field::kTitle), "وكالة أعماق");
  EXPECT_EQ(doc.text(Field::kSiteName), "وكالة أعماق");
  EXPECT_EQ(doc.text(Field::kMeta), "الأخبار & التقارير");
  EXPECT_EQ(doc.text(Field::kMasthead), "أعماق");
  EXPECT_EQ(doc.text(Field::kLogo), "أعماق\nشعار.png");
  EXPECT_EQ(doc.text(Field::kHeadings), "الأخبار");
  EXPECT_EQ(doc.text(Field::kQuote), "قال الرجل");
  EXPECT_EQ(doc.text(Field::kFooter), "جميع الحقوق محفوظة");
  EXPECT_EQ(doc.text(Field::kLinks), "/أخبار/اليوم\nأخبار اليوم");
  EXPECT_EQ(doc.text(Field::kBody),
            "أعماق\nالأخبار\nالطقس اليوم معتدل\nالمكتبة العامة\nأخبار اليوم\nقال الرجل\n"
            "جميع الحقوق محفوظة");
  ASSERT_EQ(doc.links.size(), 1u);
  EXPECT_EQ(doc.links[0].url,
            "http://host.test/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%D8%A7%D9%84%D9%8A%D9%88%D9%85");
  EXPECT_EQ(doc.links[0].text, "أخبار اليوم");
}

struct BaseCase {
  const char* why;
  std::string html;
  std::string base_href;
  std::string first_link;  // doc.links[0].url
};

TEST(ExtractDocument, BaseHref) {
  const BaseCase cases[] = {
      {"no base: the page URL", "<a href=x>x</a>", "http://host.test/section/page.html",
       "http://host.test/section/x"},
      {"absolute base", "<base href='http://mirror.test/dir/'><a href=x>x</a>",
       "http://mirror.test/dir/", "http://mirror.test/dir/x"},
      {"relative base resolved against the page", "<base href='../other/'><a href=x>x</a>",
       "http://host.test/other/", "http://host.test/other/x"},
      {"first base wins",
       "<base href='http://one.test/'><base href='http://two.test/'><a href=x>x</a>",
       "http://one.test/", "http://one.test/x"},
      {"base applies to links before it", "<body><a href=x>x</a><base href='http://late.test/'>",
       "http://late.test/", "http://late.test/x"},
      {"base without href is skipped",
       "<base target=_blank><base href='http://b.test/'>"
       "<a href=x>x</a>",
       "http://b.test/", "http://b.test/x"},
      {"javascript: base ignored", "<base href='javascript:alert(1)'><a href=x>x</a>",
       "http://host.test/section/page.html", "http://host.test/section/x"},
  };
  for (const BaseCase& c : cases) {
    SCOPED_TRACE(c.why);
    const Document doc = Extract(c.html);
    EXPECT_EQ(doc.base_href, c.base_href);
    ASSERT_FALSE(doc.links.empty());
    EXPECT_EQ(doc.links[0].url, c.first_link);
  }
}

TEST(ExtractDocument, LinksKeepOrderAndDuplicates) {
  const Document doc = Extract(
      "<a href=/a>A</a><a href='/a#frag'>A again</a><a href='ftp://x.test/'>F</a>"
      "<a href='//cdn.test/c'>C</a><area href=/d alt=D>");
  ASSERT_EQ(doc.links.size(), 4u);
  EXPECT_EQ(doc.links[0].url, "http://host.test/a");
  EXPECT_EQ(doc.links[1].url, "http://host.test/a");
  EXPECT_EQ(doc.links[1].text, "A again");
  EXPECT_EQ(doc.links[2].url, "http://cdn.test/c");
  EXPECT_EQ(doc.links[3].url, "http://host.test/d");
  EXPECT_EQ(doc.links[3].text, "D");
}

TEST(ExtractDocument, DeepNestingDoesNotOverflowTheStack) {
  std::string html = "<html><body>";
  for (int i = 0; i < 20000; ++i) html += "<div class=brand>";
  html += "deep <a href=/deep>link</a>";
  const Document doc = Extract(html);
  EXPECT_EQ(doc.text(Field::kBody), "deep link");
  EXPECT_EQ(doc.text(Field::kMasthead), "deep link");
  ASSERT_EQ(doc.links.size(), 1u);
  EXPECT_EQ(doc.links[0].url, "http://host.test/deep");
}

TEST(ExtractDocument, HostileInputDoesNotCrash) {
  const std::string inputs[] = {
      "",
      "plain text, no markup",
      std::string("<p>a\0b</p>", 10),
      "<p>bad \xff\xfe utf-8 \xc3</p><title>\xe2\x82</title>",
      "<a href='\xff'>\xff</a><img alt='\xc0\xaf' src='%ff%fe.png'>",
      "<<<>>></p></div></body></html><html><html>",
      "<table><tr><td><table><a href=x>unclosed",
      "<svg><a href='/svg-link'><text>Svg</text></a><title>t</title></svg>",
      "<math><mi>x</mi></math><frameset><frame src=f.html></frameset>",
      std::string(100000, '<'),
  };
  for (const std::string& html : inputs) {
    const Document doc = Extract(html);
    for (const std::string& text : doc.fields) {
      EXPECT_EQ(ValidUtf8Prefix(text), text.size()) << "field text must stay valid UTF-8";
    }
  }
}

TEST(ExtractDocument, ConcurrentCallsAgree) {
  // Each call owns its parser and arena; the only shared object is the immutable IDNA mapper,
  // created on first use -- so start every thread before any call has made it.
  std::string html = "<title>Amaq</title>";
  for (int i = 0; i < 200; ++i) {
    html += "<p><a href='http://مثال" + std::to_string(i % 7) + ".test/" + std::to_string(i) +
            "'>وكالة</a> lorem <a href='/p" + std::to_string(i) + "'>ipsum</a></p>";
  }
  std::vector<Document> results(4);
  std::vector<std::thread> threads;
  for (Document& result : results) {
    threads.emplace_back([&html, &result] { result = Extract(html); });
  }
  for (std::thread& thread : threads) thread.join();
  const Document expected = Extract(html);
  ASSERT_EQ(expected.links.size(), 400u);
  EXPECT_EQ(expected.links[0].url, "http://xn--0-ymcl5hc.test/0");
  for (const Document& result : results) {
    EXPECT_EQ(result.fields, expected.fields);
    ASSERT_EQ(result.links.size(), expected.links.size());
    for (std::size_t i = 0; i < result.links.size(); ++i) {
      EXPECT_EQ(result.links[i].url, expected.links[i].url);
    }
  }
}

TEST(ExtractDocument, InvalidUtf8IsReplaced) {
  const Document doc = Extract(
      "<p>a\xff"
      "b</p>");
  EXPECT_EQ(doc.text(Field::kBody),
            "a\xEF\xBF\xBD"
            "b");
}

}  // namespace
}  // namespace mw

// Found by fuzz/html_fuzzer.cc: Gumbo writes a character reference past U+10FFFF as the byte
// 0xFF; every field still comes out as UTF-8, the reference as U+FFFD.
TEST(ExtractDocument, OverflowingCharacterReferencesComeOutAsUtf8) {
  const mw::Url base = *mw::ParseUrl("http://host.test/");
  const mw::Document doc = mw::ExtractDocument(
      "<title>a &#999999999999; b</title><img alt=\"x&#99999999999;y\">"
      "<p>text &#x110000; &#1114111; end <a href=/l>link &#999999999;</a></p>",
      base);
  for (const std::string& field : doc.fields) {
    EXPECT_EQ(mw::ValidUtf8Prefix(field), field.size()) << field;
  }
  EXPECT_EQ(doc.text(mw::Field::kTitle), "a \xEF\xBF\xBD b");
  ASSERT_EQ(doc.links.size(), 1u);
  EXPECT_EQ(mw::ValidUtf8Prefix(doc.links[0].text), doc.links[0].text.size());
}
