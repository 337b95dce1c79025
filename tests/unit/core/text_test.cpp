#include "core/text.hpp"

#include <gtest/gtest.h>
#include <iconv.h>

#include <optional>
#include <string>
#include <thread>

namespace tsunagu::core {
namespace {

struct FoldCase {
  const char* input;
  const char* folded;
};

TEST(FoldKanaTest, Table) {
  const FoldCase cases[] = {
      {"ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ"},
      {"やまだ　たろう", "ヤマダタロウ"},
      {"ヤマダタロウ", "ヤマダタロウ"},
      {" ヤマダ\tタロウ　", "ヤマダタロウ"},
      {"ｶﾞｷﾞｸﾞｹﾞｺﾞ", "ガギグゲゴ"},
      {"ｻﾞｼﾞｽﾞｾﾞｿﾞﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞ", "ザジズゼゾダヂヅデド"},
      {"ﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ", "バビブベボ"},
      {"ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"},
      {"ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"},
      {"ﾜﾞ", "ヷ"},
      {"ｯｬｭｮｧｨｩｪｫｦﾝ", "ッャュョァィゥェォヲン"},
      {"がぎぐぱぴゔ", "ガギグパピヴ"},
      {"ＡＢＣ１２３", "abc123"},
      {"Smith JOHN", "smithjohn"},
      {"ｽﾐｽ･ｼﾞｮﾝ", "スミスジョン"},
      {"スミス・ジョン", "スミスジョン"},
      {"ｻｰﾋﾞｽ", "サービス"},
      // Combining and spacing voicing marks compose onto the preceding kana.
      {"か\u3099は\u309A", "ガパ"},
      {"カ\u3099ウ\u3099", "ガヴ"},
      {"う゛", "ヴ"},
      // No voiced form: the mark is kept in its spacing form.
      {"ｱﾞ", "ア゛"},
      {"ﾟ", "゜"},
      {"ガﾞ", "ガ゛"},
      {"ゝゞ", "ヽヾ"},
      {"山田　太郎", "山田太郎"},
      {"", ""},
      {"　 ", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FoldKana(c.input), c.folded) << "input: " << c.input;
  }
}

TEST(FoldKanaTest, InvalidBytesBecomeReplacementCharacter) {
  EXPECT_EQ(FoldKana("ｱ\xff"), "ア\uFFFD");
  EXPECT_TRUE(IsValidUtf8(FoldKana("\xe3\x81")));
}

TEST(LooksLikeEmailTest, AcceptsAddressesAndRefusesHeaderBreakers) {
  EXPECT_TRUE(LooksLikeEmail("mari@example.jp"));
  EXPECT_TRUE(LooksLikeEmail("ns.suzuki@demo.tsunagu.local"));
  EXPECT_FALSE(LooksLikeEmail(""));
  EXPECT_FALSE(LooksLikeEmail("not-an-address"));
  EXPECT_FALSE(LooksLikeEmail("@example.jp"));
  EXPECT_FALSE(LooksLikeEmail("user@localhost"));
  EXPECT_FALSE(LooksLikeEmail("a b@example.jp"));
  EXPECT_FALSE(LooksLikeEmail("a@example.jp\r\nBcc: x@example.jp"));
  EXPECT_FALSE(LooksLikeEmail("\"x\"@example.jp"));
  EXPECT_FALSE(LooksLikeEmail(std::string(250, 'a') + "@example.jp"));
}

TEST(TrimTest, AsciiAndIdeographicSpaces) {
  EXPECT_EQ(Trim("  abc \t"), "abc");
  EXPECT_EQ(Trim("　山田 太郎　\r\n"), "山田 太郎");
  EXPECT_EQ(Trim("　"), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("x"), "x");
}

TEST(Utf8Test, Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii"));
  EXPECT_TRUE(IsValidUtf8("山田ｶﾞ①𠮷"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));       // U+D7FF
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(IsValidUtf8("\xed\xbf\xbf"));      // U+DFFF surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xe5\xb1"));  // truncated 山
  EXPECT_FALSE(IsValidUtf8("a\xe5"));
  EXPECT_FALSE(IsValidUtf8("\x80"));          // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xe5\x41\xb1"));  // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_TRUE(IsValidUtf8(std::string_view("a\0b", 3)));
}

TEST(Iso2022JpTest, RoundTripsJapaneseNames) {
  for (const char* name :
       {"山田太郎", "ヤマダ タロウ", "佐藤 花子", "PID|1||12345^^^^PI||山田^太郎",
        "〒123-4567 福島県", "ABC abc 123", ""}) {
    std::optional<std::string> encoded = EncodeIso2022Jp(name);
    ASSERT_TRUE(encoded) << name;
    EXPECT_TRUE(IsValidUtf8(*encoded));  // 7-bit
    std::optional<std::string> decoded = DecodeIso2022Jp(*encoded);
    ASSERT_TRUE(decoded) << name;
    EXPECT_EQ(*decoded, name);
  }
}

TEST(Iso2022JpTest, KnownBytes) {
  EXPECT_EQ(EncodeIso2022Jp("山田太郎"), "\x1b$B;3ED\x42@O:\x1b(B");
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B"), "山田^太郎");
  // The older JIS C 6226 designation and JIS-Roman.
  EXPECT_EQ(DecodeIso2022Jp("\x1b$@;3ED\x1b(JA\\~\x1b(B"), "山田A¥‾");
  // JIS X 0212 (here: 丂 at 0x3021).
  EXPECT_EQ(DecodeIso2022Jp("\x1b$(D0!\x1b(B"), "丂");
  // Half-width katakana designation met in real feeds.
  EXPECT_EQ(DecodeIso2022Jp("\x1b(I6^\x1b(B"), "ｶﾞ");
  // A run may end the input without returning to ASCII.
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B;3"), "山");
  // Segments as an HL7 message holds them: ASCII around runs of other sets,
  // one set following another without ASCII between, control characters in
  // the ASCII and JIS-Roman runs.
  EXPECT_EQ(DecodeIso2022Jp("PID|1||\x1b$B;3ED\x1b(J\\\r\x1b(BOBX|\x1b$B;3\x1b(I6\x1b(B|\r"),
            "PID|1||山田¥\rOBX|山ｶ|\r");
  EXPECT_EQ(DecodeIso2022Jp("\x1b(BMSH|^~\\&|\r"), "MSH|^~\\&|\r");
  EXPECT_EQ(DecodeIso2022Jp(""), "");
}

TEST(Iso2022JpTest, EncoderWidensHalfWidthKanaAndMapsLookAlikes) {
  std::optional<std::string> encoded = EncodeIso2022Jp("ﾔﾏﾀﾞ ﾀﾛｳ");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(DecodeIso2022Jp(*encoded), "ヤマダ タロウ");
  encoded = EncodeIso2022Jp("9時～17時");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(DecodeIso2022Jp(*encoded), "9時〜17時");
}

// What glibc's iconv answers for the whole text (nullopt if it refuses).
std::optional<std::string> IconvIso2022Jp(const std::string& in) {
  iconv_t cd = iconv_open("UTF-8", "ISO-2022-JP-2");
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out(in.size() * 4 + 16, '\0');
  char* in_ptr = const_cast<char*>(in.data());
  size_t in_left = in.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  const size_t rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  iconv_close(cd);
  if (rc == static_cast<size_t>(-1)) return std::nullopt;
  out.resize(out.size() - out_left);
  return out;
}

TEST(Iso2022JpTest, EveryJisX0208CodeDecodesAsIconvDecodesIt) {
  int checked = 0;
  for (const char* escape : {"\x1b$B", "\x1b$@"}) {
    for (int b1 = 0x21; b1 <= 0x7E; ++b1) {
      for (int b2 = 0x21; b2 <= 0x7E; ++b2) {
        // Between text of both single-byte sets, as in an HL7 field.
        const std::string in = std::string("A|") + escape + static_cast<char>(b1) +
                               static_cast<char>(b2) + "\x1b(J\\~\x1b(B^";
        ASSERT_EQ(DecodeIso2022Jp(in), IconvIso2022Jp(in)) << escape + 1 << " " << b1 << " " << b2;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2 * 94 * 94);
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B0!\x1b(B"), "亜");
}

TEST(Iso2022JpTest, MalformedTextIsRefusedWhateverTheMix) {
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B;"), std::nullopt);        // half a character
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B;\x1b(B"), std::nullopt);  // cut by an escape
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B;\n\x1b(B"), std::nullopt);
  EXPECT_EQ(DecodeIso2022Jp("abc\x80"), std::nullopt);
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B;3\x1b(I6^\x1b(B"), "山ｶﾞ");  // katakana: through iconv
  EXPECT_EQ(DecodeIso2022Jp("\x1b(Z"), std::nullopt);            // unknown escape
  EXPECT_EQ(DecodeIso2022Jp("\x1b("), std::nullopt);
}

TEST(Iso2022JpTest, CharactersOutsideJisAreRejected) {
  // 髙 and ① are CP932 extensions; ISO-2022-JP-2 would use a Chinese set for ①.
  EXPECT_EQ(EncodeIso2022Jp("髙橋"), std::nullopt);
  EXPECT_EQ(EncodeIso2022Jp("①"), std::nullopt);
  EXPECT_EQ(EncodeIso2022Jp("한국"), std::nullopt);
  EXPECT_EQ(EncodeIso2022Jp("\xff"), std::nullopt);
}

TEST(Iso2022JpTest, MalformedInputIsRejected) {
  EXPECT_EQ(DecodeIso2022Jp("\x1b(Zabc"), std::nullopt);           // unknown escape
  EXPECT_EQ(DecodeIso2022Jp("abc\x1b$"), std::nullopt);            // truncated escape
  EXPECT_EQ(DecodeIso2022Jp("\x1b$A\"Y\x1b(B"), std::nullopt);     // GB 2312 is not Japanese
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B;3E\x1b(B"), std::nullopt);     // odd double-byte run
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B;3E"), std::nullopt);           // truncated character
  EXPECT_EQ(DecodeIso2022Jp("\x1b$B;3\r;3\x1b(B"), std::nullopt);  // CR in a double-byte run
  EXPECT_EQ(DecodeIso2022Jp("a\x80z"), std::nullopt);              // 8-bit byte
  EXPECT_EQ(DecodeIso2022Jp("\xe5\xb1\xb1"), std::nullopt);        // UTF-8 is not ISO-2022-JP
}

TEST(Iso2022JpTest, AFailedConversionLeavesNothingBehindForTheNext) {
  // Each thread reuses its converters: a conversion that stopped halfway
  // (in a double-byte run, or an encoder inside JIS X 0208) must not change
  // how the next one starts.
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(DecodeIso2022Jp("\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B"), "山田^太郎");
    EXPECT_EQ(DecodeIso2022Jp("\x1b$B;3E"), std::nullopt);  // stops inside a character
    EXPECT_EQ(DecodeIso2022Jp("ABC"), "ABC");
    EXPECT_EQ(EncodeIso2022Jp("山田一①"), std::nullopt);  // fails after a kanji run
    EXPECT_EQ(EncodeIso2022Jp("A山"), "A\x1b$B;3\x1b(B");
    EXPECT_EQ(DecodeShiftJis("\x8e\x52\x93"), std::nullopt);
    EXPECT_EQ(DecodeShiftJis("\x8e\x52\x93\x63"), "山田");
  }
  // Other threads convert with converters of their own.
  std::string from_thread;
  std::thread t([&] { from_thread = DecodeIso2022Jp("\x1b$B;3ED\x1b(B").value_or("?"); });
  t.join();
  EXPECT_EQ(from_thread, "山田");
}

TEST(ShiftJisTest, RoundTripIncludingCp932Extensions) {
  for (const char* text : {"山田太郎", "①②㈱", "髙橋", "﨑", "ｶﾞｷﾞ", "IR,1,13,1", ""}) {
    std::optional<std::string> encoded = EncodeShiftJis(text);
    ASSERT_TRUE(encoded) << text;
    EXPECT_EQ(DecodeShiftJis(*encoded), text);
  }
  // JIS-style 〜 and − are accepted and come back as CP932's ～ and －.
  std::optional<std::string> encoded = EncodeShiftJis("〜−");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(DecodeShiftJis(*encoded), "～－");
  EXPECT_EQ(EncodeShiftJis("①㈱髙"), "\x87\x40\x87\x8a\xfb\xfc");
  EXPECT_EQ(DecodeShiftJis("\x8e\x52\x93\x63"), "山田");
  // CP932 maps 0x8160 to FULLWIDTH TILDE.
  EXPECT_EQ(DecodeShiftJis("\x81\x60"), "～");
}

TEST(ShiftJisTest, MalformedInputIsRejected) {
  EXPECT_EQ(DecodeShiftJis("\x8e\x52\x93"), std::nullopt);  // truncated lead byte
  EXPECT_EQ(DecodeShiftJis("\x81\x20"), std::nullopt);      // bad trail byte
  EXPECT_EQ(DecodeShiftJis("\xa0"), std::nullopt);
  EXPECT_EQ(EncodeShiftJis("한국"), std::nullopt);
  EXPECT_EQ(EncodeShiftJis("\xed\xa0\x80"), std::nullopt);
}

TEST(KanaFieldTest, IsKatakanaOrSpace) {
  EXPECT_TRUE(IsKatakanaOrSpace("ヤマダ タロウ"));
  EXPECT_TRUE(IsKatakanaOrSpace("スミス・ジョン　ヴァー"));
  EXPECT_TRUE(IsKatakanaOrSpace(""));
  EXPECT_FALSE(IsKatakanaOrSpace("やまだ"));
  EXPECT_FALSE(IsKatakanaOrSpace("ﾔﾏﾀﾞ"));
  EXPECT_FALSE(IsKatakanaOrSpace("山田"));
  EXPECT_FALSE(IsKatakanaOrSpace("ヤマダ1"));
  EXPECT_FALSE(IsKatakanaOrSpace("ヤマダ\xff"));
}

TEST(NormalizeTest, Phone) {
  EXPECT_EQ(NormalizePhone("03-1234-5678"), "0312345678");
  EXPECT_EQ(NormalizePhone("０３（１２３４）５６７８"), "0312345678");
  EXPECT_EQ(NormalizePhone("+81 90 1234 5678"), "819012345678");
  EXPECT_EQ(NormalizePhone("なし"), "");
}

TEST(NormalizeTest, Postcode) {
  EXPECT_EQ(NormalizePostcode("123-4567"), "1234567");
  EXPECT_EQ(NormalizePostcode("〒１２３－４５６７"), "1234567");
  EXPECT_EQ(NormalizePostcode("〒 960 8031"), "9608031");
  EXPECT_EQ(NormalizePostcode("1234567"), "1234567");
  EXPECT_EQ(NormalizePostcode("123ー4567"), "1234567");
  EXPECT_EQ(NormalizePostcode("123-456"), "");
  EXPECT_EQ(NormalizePostcode("123-45678"), "");
  EXPECT_EQ(NormalizePostcode("12a-4567"), "");
  EXPECT_EQ(NormalizePostcode(""), "");
}

}  // namespace
}  // namespace tsunagu::core
