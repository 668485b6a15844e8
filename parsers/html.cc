#include "parsers/html.h"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "parsers/utf8.h"

namespace mw {
namespace {

// ---------------------------------------------------------------------------------------------
// Memory

// Bump allocator for one parse. Gumbo mallocs and frees every node, attribute and buffer on its
// own; bumping a pointer instead saves ~14% of the parse's instructions (callgrind, 100 KiB
// page). It also means the tree is never walked to be freed: gumbo_destroy_output() recurses
// once per tree level, and a page nested 50,000 deep overflows a 1 MiB thread stack in it.
class Arena {
 public:
  explicit Arena(std::size_t input_size)
      : next_block_size_(std::clamp<std::size_t>(input_size * 4, kMinBlock, kMaxBlock)) {
    blocks_.reserve(32);
  }
  ~Arena() {
    for (void* block : blocks_) std::free(block);
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // GumboOptions callbacks; `arena` is the userdata.
  static void* GumboAllocate(void* arena, std::size_t size) {
    return static_cast<Arena*>(arena)->Allocate(size);
  }
  static void GumboDeallocate(void* /*arena*/, void* /*pointer*/) {}

 private:
  static constexpr std::size_t kAlign = alignof(std::max_align_t);
  static constexpr std::size_t kMinBlock = 64 * 1024;
  static constexpr std::size_t kMaxBlock = 16 * 1024 * 1024;

  void* Allocate(std::size_t size) noexcept {
    size = (size + kAlign - 1) & ~(kAlign - 1);
    if (size > static_cast<std::size_t>(end_ - next_)) {
      // A big buffer gets a block of its own, so the rest of the current block is not wasted.
      if (size > next_block_size_ / 4) return NewBlock(size);
      next_ = static_cast<char*>(NewBlock(next_block_size_));
      end_ = next_ + next_block_size_;
      next_block_size_ = std::min(next_block_size_ * 2, kMaxBlock);
    }
    void* result = next_;
    next_ += size;
    return result;
  }

  // Gumbo has no way to report a failed allocation; running out of memory here is fatal anyway.
  void* NewBlock(std::size_t size) noexcept {
    void* block = std::malloc(size);
    if (block == nullptr) std::abort();
    blocks_.push_back(block);
    return block;
  }

  std::vector<void*> blocks_;
  char* next_ = nullptr;
  char* end_ = nullptr;
  std::size_t next_block_size_;
};

// ---------------------------------------------------------------------------------------------
// Text

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != lower[i]) return false;
  }
  return true;
}

// A run of text with its whitespace collapsed: inner runs became one space, and the runs at
// either end are only remembered, since whether they show depends on what comes next.
struct Collapsed {
  std::string_view core;
  bool leading_space = false;
  bool trailing_space = false;
};

// Length of the whitespace character at text[i], 0 if there is none. U+00A0 (&nbsp;) counts:
// pages glue words with it, and a signature matching "name\s+name" should still see two words.
std::size_t SpaceLength(std::string_view text, std::size_t i) {
  if (IsAsciiSpace(text[i])) return 1;
  if (text[i] == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0') return 2;
  return 0;
}

Collapsed Collapse(std::string_view text, std::string* scratch) {
  scratch->clear();
  Collapsed result;
  bool pending_space = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t space = SpaceLength(text, i);
    if (space != 0) {
      (scratch->empty() ? result.leading_space : pending_space) = true;
      i += space;
      continue;
    }
    std::size_t end = i + 1;
    while (end < text.size() && SpaceLength(text, end) == 0) ++end;
    if (pending_space) scratch->push_back(' ');
    pending_space = false;
    scratch->append(text.data() + i, end - i);
    i = end;
  }
  result.core = *scratch;
  result.trailing_space = pending_space;
  return result;
}

// What separates the next text written to a field from the text before it.
enum class Gap : std::uint8_t { kNone, kSpace, kLine };

// Writes collapsed text into one field. Separators are held back until more text follows, so
// a field never starts or ends with one and a run of them becomes the strongest one.
class FieldWriter {
 public:
  explicit FieldWriter(bool single_line = false) : single_line_(single_line) {}

  void AddGap(Gap gap) {
    if (single_line_ && gap == Gap::kLine) gap = Gap::kSpace;
    pending_ = std::max(pending_, gap);
  }

  void Write(const Collapsed& text, std::string* out) {
    if (text.leading_space) AddGap(Gap::kSpace);
    if (!text.core.empty()) {
      if (pending_ != Gap::kNone && !out->empty()) {
        out->push_back(pending_ == Gap::kLine ? '\n' : ' ');
      }
      pending_ = Gap::kNone;
      out->append(text.core);
    }
    if (text.trailing_space) AddGap(Gap::kSpace);
  }

  // Writes `text` as an element of its own: on a new line.
  void WriteItem(const Collapsed& text, std::string* out) {
    AddGap(Gap::kLine);
    Write(text, out);
    AddGap(Gap::kLine);
  }

 private:
  Gap pending_ = Gap::kNone;
  bool single_line_;
};

// ---------------------------------------------------------------------------------------------
// Element classes

// Elements that start a new line of rendered text (CSS display: block, list-item, table parts)
// or otherwise keep the words on either side apart.
constexpr std::array<bool, GUMBO_TAG_LAST + 1> MakeBlockTags() {
  std::array<bool, GUMBO_TAG_LAST + 1> block{};
  for (GumboTag tag :
       {GUMBO_TAG_HTML,     GUMBO_TAG_BODY,   GUMBO_TAG_ARTICLE,   GUMBO_TAG_SECTION,
        GUMBO_TAG_NAV,      GUMBO_TAG_ASIDE,  GUMBO_TAG_H1,        GUMBO_TAG_H2,
        GUMBO_TAG_H3,       GUMBO_TAG_H4,     GUMBO_TAG_H5,        GUMBO_TAG_H6,
        GUMBO_TAG_HGROUP,   GUMBO_TAG_HEADER, GUMBO_TAG_FOOTER,    GUMBO_TAG_ADDRESS,
        GUMBO_TAG_P,        GUMBO_TAG_HR,     GUMBO_TAG_PRE,       GUMBO_TAG_BLOCKQUOTE,
        GUMBO_TAG_OL,       GUMBO_TAG_UL,     GUMBO_TAG_LI,        GUMBO_TAG_DL,
        GUMBO_TAG_DT,       GUMBO_TAG_DD,     GUMBO_TAG_FIGURE,    GUMBO_TAG_FIGCAPTION,
        GUMBO_TAG_MAIN,     GUMBO_TAG_DIV,    GUMBO_TAG_BR,        GUMBO_TAG_TABLE,
        GUMBO_TAG_CAPTION,  GUMBO_TAG_TBODY,  GUMBO_TAG_THEAD,     GUMBO_TAG_TFOOT,
        GUMBO_TAG_TR,       GUMBO_TAG_TD,     GUMBO_TAG_TH,        GUMBO_TAG_FORM,
        GUMBO_TAG_FIELDSET, GUMBO_TAG_LEGEND, GUMBO_TAG_BUTTON,    GUMBO_TAG_SELECT,
        GUMBO_TAG_OPTGROUP, GUMBO_TAG_OPTION, GUMBO_TAG_TEXTAREA,  GUMBO_TAG_DETAILS,
        GUMBO_TAG_SUMMARY,  GUMBO_TAG_MENU,   GUMBO_TAG_DIR,       GUMBO_TAG_CENTER,
        GUMBO_TAG_LISTING,  GUMBO_TAG_XMP,    GUMBO_TAG_PLAINTEXT, GUMBO_TAG_FRAMESET,
        GUMBO_TAG_VIDEO,    GUMBO_TAG_AUDIO,  GUMBO_TAG_CANVAS,    GUMBO_TAG_MARQUEE}) {
    block[tag] = true;
  }
  return block;
}
constexpr std::array<bool, GUMBO_TAG_LAST + 1> kBlockTags = MakeBlockTags();

// Inline elements that still never share a word with their neighbours. Browsers glue
// "<a>News</a><a>Sport</a>" into "NewsSport"; a menu is a list of words, so keep them apart.
constexpr std::array<bool, GUMBO_TAG_LAST + 1> MakeSpacedTags() {
  std::array<bool, GUMBO_TAG_LAST + 1> spaced{};
  for (GumboTag tag : {GUMBO_TAG_A, GUMBO_TAG_AREA, GUMBO_TAG_IMG, GUMBO_TAG_INPUT, GUMBO_TAG_LABEL,
                       GUMBO_TAG_WBR}) {
    spaced[tag] = true;
  }
  return spaced;
}
constexpr std::array<bool, GUMBO_TAG_LAST + 1> kSpacedTags = MakeSpacedTags();

// Elements whose text is never rendered. <title> is read on its own; <head> holds no visible
// text, only the metadata the walk reads from attributes.
constexpr std::array<bool, GUMBO_TAG_LAST + 1> MakeHiddenTags() {
  std::array<bool, GUMBO_TAG_LAST + 1> hidden{};
  for (GumboTag tag :
       {GUMBO_TAG_HEAD, GUMBO_TAG_TITLE, GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE, GUMBO_TAG_NOSCRIPT,
        GUMBO_TAG_TEMPLATE, GUMBO_TAG_IFRAME, GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES}) {
    hidden[tag] = true;
  }
  return hidden;
}
constexpr std::array<bool, GUMBO_TAG_LAST + 1> kHiddenTags = MakeHiddenTags();

// What an element opened; the same bits are undone when the walk leaves it.
enum Role : std::uint16_t {
  kRoleBlock = 1 << 0,
  kRoleHidden = 1 << 1,
  kRoleMasthead = 1 << 2,
  kRoleFooter = 1 << 3,
  kRoleHeading = 1 << 4,
  kRoleQuote = 1 << 5,
  kRoleLink = 1 << 6,
  kRoleSpaced = 1 << 7,
};

bool ContainsAny(std::string_view haystack, std::initializer_list<std::string_view> needles) {
  for (std::string_view needle : needles) {
    if (haystack.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

// True when the whitespace-separated token list `list` (a rel attribute) holds `token`.
bool HasToken(std::string_view list, std::string_view lower_token) {
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && IsAsciiSpace(list[i])) ++i;
    std::size_t end = i;
    while (end < list.size() && !IsAsciiSpace(list[end])) ++end;
    if (end > i && EqualsIgnoreCase(list.substr(i, end - i), lower_token)) return true;
    i = end;
  }
  return false;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsAsciiSpace(text.back())) text.remove_suffix(1);
  return text;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = AsciiLower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "/img/amaq%20logo.png?v=2" -> "amaq logo.png": the last path segment, percent-decoded when
// that yields valid UTF-8. Empty for data: URLs, whose "file name" is the image itself.
std::string ImageFileName(std::string_view src) {
  src = Trim(src);
  if (src.size() >= 5 && EqualsIgnoreCase(src.substr(0, 5), "data:")) return std::string();
  src = src.substr(0, src.find_first_of("?#"));
  const std::size_t slash = src.find_last_of("/\\");
  if (slash != std::string_view::npos) src.remove_prefix(slash + 1);
  std::string decoded;
  decoded.reserve(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    const int hi = src[i] == '%' && i + 2 < src.size() ? HexValue(src[i + 1]) : -1;
    const int lo = hi >= 0 ? HexValue(src[i + 2]) : -1;
    if (lo >= 0) {
      decoded.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      decoded.push_back(src[i]);
    }
  }
  if (ValidUtf8Prefix(decoded) != decoded.size()) return std::string(src);
  return decoded;
}

// ---------------------------------------------------------------------------------------------
// The walk

// One <a href> or <area href>, kept until the walk has seen any <base href>.
struct PendingLink {
  std::string_view href;  // as written; points into the Gumbo tree
  std::string text;
  FieldWriter writer{/*single_line=*/true};
};

// Collects every field in a single pass over the tree. The walk keeps its own stack, because
// hostile or broken pages nest elements tens of thousands deep.
class FieldCollector {
 public:
  explicit FieldCollector(Document* doc) : doc_(doc) {
    scratch_.reserve(256);
    class_scratch_.reserve(64);
  }

  void Walk(const GumboNode* root);

  std::string_view base_href() const { return base_href_; }
  std::string_view canonical() const { return canonical_; }
  const std::vector<PendingLink>& links() const { return links_; }

 private:
  struct Frame {
    const GumboNode* node;
    unsigned int next_child;
    std::uint16_t roles;
  };

  std::string& Text(Field field) { return doc_->text(field); }
  FieldWriter& Writer(Field field) { return writers_[static_cast<std::size_t>(field)]; }

  std::uint16_t Enter(const GumboElement& element);
  void Leave(std::uint16_t roles);
  void OnText(const char* text);
  void AddGapToOpenFields(Gap gap);
  std::uint16_t ClassifyByAttributes(const GumboElement& element);
  void ReadMeta(const GumboElement& element);
  void ReadTitle(const GumboElement& element);
  void ReadImage(const GumboElement& element);
  void WriteItem(Field field, std::string_view text) {
    Writer(field).WriteItem(Collapse(text, &scratch_), &Text(field));
  }

  Document* doc_;
  std::array<FieldWriter, kFieldCount> writers_;
  // How many open elements hold each role; text goes to a field while its count is non-zero.
  int hidden_ = 0;
  int masthead_ = 0;
  int footer_ = 0;
  int heading_ = 0;
  int quote_ = 0;
  std::vector<std::size_t> open_links_;  // indexes into links_, innermost last
  std::vector<PendingLink> links_;
  bool have_title_ = false;
  bool have_base_ = false;
  bool have_canonical_ = false;
  std::string_view base_href_;
  std::string_view canonical_;
  std::string scratch_;
  std::string class_scratch_;
};

const char* Attribute(const GumboElement& element, const char* name) {
  const GumboAttribute* attribute = gumbo_get_attribute(&element.attributes, name);
  return attribute != nullptr ? attribute->value : nullptr;
}

void FieldCollector::Walk(const GumboNode* root) {
  std::vector<Frame> stack;
  stack.reserve(256);
  stack.push_back(Frame{root, 0, 0});
  while (!stack.empty()) {
    Frame& frame = stack.back();
    const GumboVector& children = frame.node->type == GUMBO_NODE_DOCUMENT
                                      ? frame.node->v.document.children
                                      : frame.node->v.element.children;
    if (frame.next_child >= children.length) {
      Leave(frame.roles);
      stack.pop_back();
      continue;
    }
    const auto* child = static_cast<const GumboNode*>(children.data[frame.next_child++]);
    switch (child->type) {
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_CDATA:
      case GUMBO_NODE_WHITESPACE:
        OnText(child->v.text.text);
        break;
      case GUMBO_NODE_ELEMENT:
        stack.push_back(Frame{child, 0, Enter(child->v.element)});  // invalidates `frame`
        break;
      default:  // comments; template contents are never rendered
        break;
    }
  }
}

std::uint16_t FieldCollector::ClassifyByAttributes(const GumboElement& element) {
  std::uint16_t roles = 0;
  // Some sites put "header" in the class of <body> or <html>; that would make the whole page
  // a masthead.
  if (element.tag == GUMBO_TAG_HTML || element.tag == GUMBO_TAG_BODY) return roles;
  for (unsigned int i = 0; i < element.attributes.length; ++i) {
    const auto* attribute = static_cast<const GumboAttribute*>(element.attributes.data[i]);
    if (std::strcmp(attribute->name, "class") != 0 && std::strcmp(attribute->name, "id") != 0) {
      continue;
    }
    class_scratch_.assign(attribute->value);
    for (char& c : class_scratch_) c = AsciiLower(c);
    if (ContainsAny(class_scratch_, {"header", "masthead", "brand", "logo", "banner"})) {
      roles |= kRoleMasthead;
    }
    if (ContainsAny(class_scratch_, {"footer", "copyright"})) roles |= kRoleFooter;
  }
  return roles;
}

std::uint16_t FieldCollector::Enter(const GumboElement& element) {
  const GumboTag tag = element.tag;
  std::uint16_t roles = ClassifyByAttributes(element);
  if (kBlockTags[tag]) roles |= kRoleBlock;
  if (kSpacedTags[tag]) roles |= kRoleSpaced;
  if (kHiddenTags[tag]) roles |= kRoleHidden;
  switch (tag) {
    case GUMBO_TAG_HEADER:
      roles |= kRoleMasthead;
      break;
    case GUMBO_TAG_FOOTER:
      roles |= kRoleFooter;
      break;
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
      roles |= kRoleHeading;
      break;
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_Q:
      roles |= kRoleQuote;
      break;
    case GUMBO_TAG_TITLE:
      // An SVG <title> is a tooltip, not the page's title.
      if (element.tag_namespace == GUMBO_NAMESPACE_HTML && !have_title_) ReadTitle(element);
      break;
    case GUMBO_TAG_META:
      ReadMeta(element);
      break;
    case GUMBO_TAG_BASE:
      if (const char* href = Attribute(element, "href"); href != nullptr && !have_base_) {
        have_base_ = true;
        base_href_ = href;
      }
      break;
    case GUMBO_TAG_LINK:
      if (const char* href = Attribute(element, "href"); href != nullptr && !have_canonical_) {
        const char* rel = Attribute(element, "rel");
        if (rel != nullptr && HasToken(rel, "canonical")) {
          have_canonical_ = true;
          canonical_ = href;
        }
      }
      break;
    case GUMBO_TAG_IMG:
      ReadImage(element);
      break;
    case GUMBO_TAG_INPUT:
      if (const char* type = Attribute(element, "type");
          type != nullptr && EqualsIgnoreCase(Trim(type), "image")) {
        ReadImage(element);
      }
      break;
    case GUMBO_TAG_A:
      if (const char* href = Attribute(element, "href"); href != nullptr) {
        roles |= kRoleLink;
        links_.push_back(PendingLink{href, std::string(), FieldWriter(true)});
        open_links_.push_back(links_.size() - 1);
      }
      break;
    case GUMBO_TAG_AREA:
      if (const char* href = Attribute(element, "href"); href != nullptr) {
        const char* alt = Attribute(element, "alt");
        PendingLink& link =
            links_.emplace_back(PendingLink{href, std::string(), FieldWriter(true)});
        if (alt != nullptr) link.writer.Write(Collapse(alt, &scratch_), &link.text);
        WriteItem(Field::kLinks, link.href);
        if (!link.text.empty()) WriteItem(Field::kLinks, link.text);
      }
      break;
    default:
      break;
  }

  // Open the roles. A field element nested in another of its kind is part of the outer one.
  if (roles & kRoleHidden) ++hidden_;
  if (roles & kRoleMasthead && masthead_++ == 0) Writer(Field::kMasthead).AddGap(Gap::kLine);
  if (roles & kRoleFooter && footer_++ == 0) Writer(Field::kFooter).AddGap(Gap::kLine);
  if (roles & kRoleHeading && heading_++ == 0) Writer(Field::kHeadings).AddGap(Gap::kLine);
  if (roles & kRoleQuote && quote_++ == 0) Writer(Field::kQuote).AddGap(Gap::kLine);
  if (roles & kRoleBlock) AddGapToOpenFields(Gap::kLine);
  if (roles & kRoleSpaced) AddGapToOpenFields(Gap::kSpace);
  return roles;
}

void FieldCollector::Leave(std::uint16_t roles) {
  if (roles & kRoleBlock) AddGapToOpenFields(Gap::kLine);
  if (roles & kRoleSpaced) AddGapToOpenFields(Gap::kSpace);
  if (roles & kRoleHidden) --hidden_;
  if (roles & kRoleMasthead) --masthead_;
  if (roles & kRoleFooter) --footer_;
  if (roles & kRoleHeading) --heading_;
  if (roles & kRoleQuote) --quote_;
  if (roles & kRoleLink) {
    const PendingLink& link = links_[open_links_.back()];
    open_links_.pop_back();
    WriteItem(Field::kLinks, link.href);
    if (!link.text.empty()) WriteItem(Field::kLinks, link.text);
  }
}

void FieldCollector::AddGapToOpenFields(Gap gap) {
  Writer(Field::kBody).AddGap(gap);
  if (masthead_ > 0) Writer(Field::kMasthead).AddGap(gap);
  if (footer_ > 0) Writer(Field::kFooter).AddGap(gap);
  if (heading_ > 0) Writer(Field::kHeadings).AddGap(gap);
  if (quote_ > 0) Writer(Field::kQuote).AddGap(gap);
  if (!open_links_.empty()) links_[open_links_.back()].writer.AddGap(gap);
}

void FieldCollector::OnText(const char* text) {
  if (hidden_ > 0) return;
  const Collapsed collapsed = Collapse(text, &scratch_);
  Writer(Field::kBody).Write(collapsed, &Text(Field::kBody));
  if (masthead_ > 0) Writer(Field::kMasthead).Write(collapsed, &Text(Field::kMasthead));
  if (footer_ > 0) Writer(Field::kFooter).Write(collapsed, &Text(Field::kFooter));
  if (heading_ > 0) Writer(Field::kHeadings).Write(collapsed, &Text(Field::kHeadings));
  if (quote_ > 0) Writer(Field::kQuote).Write(collapsed, &Text(Field::kQuote));
  if (!open_links_.empty()) {
    PendingLink& link = links_[open_links_.back()];
    link.writer.Write(collapsed, &link.text);
  }
}

void FieldCollector::ReadTitle(const GumboElement& element) {
  have_title_ = true;
  FieldWriter& writer = Writer(Field::kTitle);
  for (unsigned int i = 0; i < element.children.length; ++i) {
    const auto* child = static_cast<const GumboNode*>(element.children.data[i]);
    if (child->type == GUMBO_NODE_TEXT || child->type == GUMBO_NODE_WHITESPACE) {
      writer.Write(Collapse(child->v.text.text, &scratch_), &Text(Field::kTitle));
    }
  }
}

void FieldCollector::ReadMeta(const GumboElement& element) {
  const char* content = Attribute(element, "content");
  if (content == nullptr) return;
  for (const char* key_attribute : {"name", "property"}) {
    const char* key_value = Attribute(element, key_attribute);
    if (key_value == nullptr) continue;
    const std::string_view key = Trim(key_value);
    if (EqualsIgnoreCase(key, "og:site_name") || EqualsIgnoreCase(key, "application-name") ||
        EqualsIgnoreCase(key, "twitter:site")) {
      WriteItem(Field::kSiteName, content);
      return;
    }
    if (EqualsIgnoreCase(key, "description") || EqualsIgnoreCase(key, "keywords") ||
        EqualsIgnoreCase(key, "og:title") || EqualsIgnoreCase(key, "og:description")) {
      WriteItem(Field::kMeta, content);
      return;
    }
  }
}

void FieldCollector::ReadImage(const GumboElement& element) {
  if (const char* alt = Attribute(element, "alt"); alt != nullptr) WriteItem(Field::kLogo, alt);
  if (const char* src = Attribute(element, "src"); src != nullptr) {
    const std::string file_name = ImageFileName(src);
    if (!file_name.empty()) WriteItem(Field::kLogo, file_name);
  }
}

}  // namespace

Document ExtractDocument(std::string_view html, const Url& base) {
  Document doc;
  doc.text(Field::kUrl) = base.spec;
  doc.text(Field::kHost) = base.host;
  doc.text(Field::kBody).reserve(html.size() / 4);

  Arena arena(html.size());
  GumboOptions options = kGumboDefaultOptions;
  options.allocator = &Arena::GumboAllocate;
  options.deallocator = &Arena::GumboDeallocate;
  options.userdata = &arena;
  options.max_errors = 0;  // recording parse errors costs time and nobody reads them
  GumboOutput* output = gumbo_parse_with_options(&options, html.data(), html.size());
  // The arena owns the tree: no gumbo_destroy_output(), see Arena.

  Url effective_base = base;
  if (output == nullptr) {
    doc.base_href = base.spec;
    return doc;
  }
  FieldCollector collector(&doc);
  collector.Walk(output->document);

  // <base href> applies to every URL of the page, even those before it, so links are resolved
  // only now. A <base href> that does not resolve to http(s) is ignored, as browsers do.
  if (!collector.base_href().empty()) {
    if (std::optional<Url> resolved = ResolveUrl(base, collector.base_href())) {
      effective_base = std::move(*resolved);
    }
  }
  doc.base_href = effective_base.spec;
  if (!collector.canonical().empty()) {
    if (std::optional<Url> canonical = ResolveUrl(effective_base, collector.canonical())) {
      doc.canonical = std::move(canonical->spec);
    }
  }
  doc.links.reserve(collector.links().size());
  for (const PendingLink& pending : collector.links()) {
    if (std::optional<Url> url = ResolveUrl(effective_base, pending.href)) {
      doc.links.push_back(Link{std::move(url->spec), pending.text});
    }
  }
  // Gumbo 0.10 writes a numeric character reference past U+10FFFF ("&#999999999999") as the
  // byte 0xFF instead of U+FFFD, in text and attribute values alike: repair what came out so
  // that every field is UTF-8, as Document promises. Found by fuzz/html_fuzzer.cc
  // (fuzz/regressions/html/char-ref-overflow-gumbo-writes-0xff.html).
  const auto repair = [](std::string& text) {
    if (ValidUtf8Prefix(text) != text.size()) text = ToValidUtf8(text);
  };
  for (std::string& field : doc.fields) repair(field);
  for (Link& link : doc.links) repair(link.text);
  return doc;
}

}  // namespace mw
