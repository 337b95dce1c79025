// MLLP listener: a real socket on 127.0.0.1, SQLite and PostgreSQL.
#include "ssmix2/mllp_listener.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <string>

#include "clinical/resource_store.hpp"
#include "core/clock.hpp"
#include "core/text.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace tsunagu::ssmix2 {
namespace {

using testing::Backend;
namespace asio = boost::asio;

const std::string kCode = std::string("071123456") + registry::InstitutionCheckDigit("123456");

std::string Admission(const std::string& facility, const std::string& control) {
  std::string utf8 = "MSH|^~\\&|HIS|" + facility + "|TSUNAGU||20240401100000||ADT^A01^ADT_A01|" +
                     control +
                     "|P|2.5||||||~ISO IR87||ISO 2022-1994\r"
                     "EVN||20240401100000\r"
                     "PID|0001||0099887766^^^^PI||佐藤^花子^^^^^L^I~サトウ^ハナコ^^^^^L^P||"
                     "19550301|F\r"
                     "PV1|0001|I|W3^305^1||||110^鈴木^一郎^^^^^^^L^^^^^I|||01^内科^99Z01|||||||||"
                     "||||||||||||||||||||||||20240401100000\r";
  return *core::EncodeIso2022Jp(utf8);
}

class MllpListenerTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<testing::TestDatabase>(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(tdb_->db(), {registry::FacilityService::Migrations(),
                                                    clinical::ResourceStore::Migrations()})
                    .ok());
    facilities_ = std::make_unique<registry::FacilityService>(tdb_->db(), clock_);
    registry::Facility f;
    f.type = registry::FacilityType::kHospital;
    f.code = kCode;
    f.name = "県立つなぐ病院";
    f.kana = "けんりつつなぐびょういん";
    auto created = facilities_->Create(f);
    ASSERT_TRUE(created.has_value()) << created.error().message();
    facility_id_ = created->id;
    resources_ = std::make_unique<clinical::ResourceStore>(tdb_->db(), clock_);
    MllpOptions o;
    o.port = 0;
    o.max_message_bytes = 64 * 1024;
    listener_ = std::make_unique<MllpListener>(*resources_, *facilities_, o, clock_);
    ASSERT_TRUE(listener_->Start().ok());
    ASSERT_NE(listener_->port(), 0);
    socket_ = std::make_unique<asio::ip::tcp::socket>(io_);
    socket_->connect({asio::ip::make_address("127.0.0.1"), listener_->port()});
  }

  void TearDown() override {
    socket_.reset();
    if (listener_) listener_->Stop();
  }

  // Sends one frame, returns the unframed ACK (decoded to UTF-8).
  std::string RoundTrip(const std::string& message) {
    asio::write(*socket_, asio::buffer(MllpFrame(message)));
    std::string in;
    size_t n = asio::read_until(*socket_, asio::dynamic_buffer(in), std::string("\x1c\x0d"));
    EXPECT_EQ(in.front(), '\x0b');
    std::string ack = in.substr(1, n - 3);
    auto utf8 = core::DecodeIso2022Jp(ack);
    return utf8 ? *utf8 : ack;
  }

  size_t StoredEncounters() {
    clinical::ResourceQuery q;
    q.patients = {{facility_id_, "0099887766"}};
    q.resource_types = {"Encounter"};
    auto page = resources_->Search(q);
    EXPECT_TRUE(page.has_value());
    return page ? page->items.size() : 0;
  }

  core::FakeClock clock_;
  std::unique_ptr<testing::TestDatabase> tdb_;
  std::unique_ptr<registry::FacilityService> facilities_;
  std::unique_ptr<clinical::ResourceStore> resources_;
  std::unique_ptr<MllpListener> listener_;
  asio::io_context io_;
  std::unique_ptr<asio::ip::tcp::socket> socket_;
  int64_t facility_id_ = 0;
};

TEST_P(MllpListenerTest, AcknowledgesAaOnlyAfterTheMessageIsStored) {
  std::string ack = RoundTrip(Admission(kCode, "CTRL0001"));
  EXPECT_NE(ack.find("MSA|AA|CTRL0001"), std::string::npos) << ack;
  EXPECT_EQ(StoredEncounters(), 1u);  // committed before the ACK arrived
  // The same connection carries the next message; a resend is idempotent.
  ack = RoundTrip(Admission(kCode, "CTRL0002"));
  EXPECT_NE(ack.find("MSA|AA|CTRL0002"), std::string::npos) << ack;
  EXPECT_EQ(StoredEncounters(), 1u);
}

TEST_P(MllpListenerTest, UnmappableMessageGetsAeWithTheReason) {
  std::string msg = "MSH|^~\\&|HIS|" + kCode +
                    "|TSUNAGU||20240401100000||ZZZ^Z99|CTRL0003|P|2.5\r"
                    "PID|0001||0099887766^^^^PI\r";
  std::string ack = RoundTrip(msg);
  EXPECT_NE(ack.find("MSA|AE|CTRL0003"), std::string::npos) << ack;
  EXPECT_NE(ack.find("unsupported message type"), std::string::npos) << ack;
  EXPECT_EQ(StoredEncounters(), 0u);
}

TEST_P(MllpListenerTest, GarbageGetsAr) {
  std::string ack = RoundTrip("this is not an HL7 message");
  EXPECT_NE(ack.find("MSA|AR"), std::string::npos) << ack;
}

TEST_P(MllpListenerTest, UnknownSendingFacilityGetsAr) {
  std::string other = std::string("071654321") + registry::InstitutionCheckDigit("654321");
  std::string ack = RoundTrip(Admission(other, "CTRL0004"));
  EXPECT_NE(ack.find("MSA|AR|CTRL0004"), std::string::npos) << ack;
  EXPECT_NE(ack.find("unknown sending facility"), std::string::npos) << ack;
  EXPECT_EQ(StoredEncounters(), 0u);
}

TEST_P(MllpListenerTest, OversizedFrameIsRejectedAndTheConnectionClosed) {
  std::string huge = "MSH|^~\\&|HIS|" + kCode + "|TSUNAGU||20240401100000||ADT^A08|BIG|P|2.5\r" +
                     std::string(100 * 1024, 'x');
  std::string frame = MllpFrame(huge);
  boost::system::error_code ec;
  asio::write(*socket_, asio::buffer(frame.substr(0, frame.size() - 2)), ec);
  std::string in;
  asio::read_until(*socket_, asio::dynamic_buffer(in), std::string("\x1c\x0d"), ec);
  EXPECT_NE(in.find("MSA|AR"), std::string::npos);
  EXPECT_NE(in.find("too large"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, MllpListenerTest, testing::AllBackends(),
                         testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::ssmix2
