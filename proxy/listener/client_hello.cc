#include "proxy/listener/client_hello.h"

#include <cctype>
#include <optional>

namespace gatehouse::proxy::listener {
namespace {

constexpr uint8_t kHandshakeRecord = 0x16;
constexpr uint8_t kClientHelloType = 0x01;
constexpr uint16_t kServerNameExt = 0;
constexpr uint16_t kAlpnExt = 16;

// A bounds-checked cursor over the handshake message bytes.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> d) : d_(d) {}
  bool Skip(size_t n) {
    if (d_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  std::optional<uint32_t> Int(int bytes) {
    if (d_.size() - pos_ < static_cast<size_t>(bytes)) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | d_[pos_++];
    return v;
  }
  std::optional<std::span<const uint8_t>> Bytes(size_t n) {
    if (d_.size() - pos_ < n) return std::nullopt;
    auto out = d_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  bool empty() const { return pos_ == d_.size(); }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

// Both extensions we read hold one list with a 2-byte length prefix.
std::optional<Reader> ListOf(std::span<const uint8_t> ext) {
  Reader r(ext);
  auto list_len = r.Int(2);
  auto list = list_len ? r.Bytes(*list_len) : std::nullopt;
  if (!list) return std::nullopt;
  return Reader(*list);
}

bool ParseSni(std::span<const uint8_t> ext, std::string& sni) {
  auto l = ListOf(ext);
  if (!l) return false;
  while (!l->empty()) {
    auto type = l->Int(1);
    auto len = type ? l->Int(2) : std::nullopt;
    auto name = len ? l->Bytes(*len) : std::nullopt;
    if (!name) return false;
    if (*type == 0 && sni.empty()) {
      for (uint8_t c : *name) sni.push_back(static_cast<char>(std::tolower(c)));
    }
  }
  return true;
}

bool ParseAlpn(std::span<const uint8_t> ext, std::vector<std::string>& alpn) {
  auto l = ListOf(ext);
  if (!l) return false;
  while (!l->empty()) {
    auto len = l->Int(1);
    auto proto = len ? l->Bytes(*len) : std::nullopt;
    if (!proto) return false;
    alpn.emplace_back(proto->begin(), proto->end());
  }
  return true;
}

}  // namespace

ClientHello ParseClientHello(std::span<const uint8_t> data) {
  ClientHello out;
  // Gather handshake-layer bytes from consecutive handshake records.
  std::vector<uint8_t> hs;
  size_t pos = 0;
  std::optional<size_t> msg_len;
  while (true) {
    if (msg_len && hs.size() >= *msg_len + 4) break;
    if (data.size() - pos < 5) {
      out.result = ClientHello::Result::kNeedMore;
      if (pos < data.size() && data[pos] != kHandshakeRecord)
        out.result = ClientHello::Result::kNotTls;
      return out;
    }
    if (data[pos] != kHandshakeRecord || data[pos + 1] != 0x03) {
      out.result = ClientHello::Result::kNotTls;
      return out;
    }
    size_t rec_len = (size_t{data[pos + 3]} << 8) | data[pos + 4];
    if (rec_len == 0 || rec_len > 16384 + 2048) {
      out.result = ClientHello::Result::kNotTls;
      return out;
    }
    size_t avail = std::min(rec_len, data.size() - pos - 5);
    hs.insert(hs.end(), data.begin() + pos + 5, data.begin() + pos + 5 + avail);
    if (!msg_len && hs.size() >= 4) {
      if (hs[0] != kClientHelloType) {
        out.result = ClientHello::Result::kNotTls;
        return out;
      }
      msg_len = (size_t{hs[1]} << 16) | (size_t{hs[2]} << 8) | hs[3];
      if (*msg_len + 4 > kMaxClientHelloBytes) {
        out.result = ClientHello::Result::kNotTls;
        return out;
      }
    }
    if (avail < rec_len) {
      // The record itself is incomplete; enough if it already holds the whole message.
      if (msg_len && hs.size() >= *msg_len + 4) break;
      out.result = ClientHello::Result::kNeedMore;
      return out;
    }
    pos += 5 + rec_len;
  }

  Reader r(std::span<const uint8_t>(hs).subspan(4, *msg_len));
  bool ok = r.Skip(2 + 32);  // legacy_version, random
  auto sid_len = ok ? r.Int(1) : std::nullopt;
  ok = sid_len && r.Skip(*sid_len);
  auto cs_len = ok ? r.Int(2) : std::nullopt;
  ok = cs_len && r.Skip(*cs_len);
  auto comp_len = ok ? r.Int(1) : std::nullopt;
  ok = comp_len && r.Skip(*comp_len);
  if (!ok) {
    out.result = ClientHello::Result::kNotTls;
    return out;
  }
  out.result = ClientHello::Result::kOk;
  if (r.empty()) return out;  // no extensions at all
  auto ext_len = r.Int(2);
  auto exts = ext_len ? r.Bytes(*ext_len) : std::nullopt;
  if (!exts) {
    out.result = ClientHello::Result::kNotTls;
    return out;
  }
  Reader e(*exts);
  while (!e.empty()) {
    auto type = e.Int(2);
    auto len = type ? e.Int(2) : std::nullopt;
    auto body = len ? e.Bytes(*len) : std::nullopt;
    if (!body) {
      out.result = ClientHello::Result::kNotTls;
      return out;
    }
    bool good = true;
    if (*type == kServerNameExt) good = ParseSni(*body, out.sni);
    if (*type == kAlpnExt) good = ParseAlpn(*body, out.alpn);
    if (!good) {
      out.result = ClientHello::Result::kNotTls;
      return out;
    }
  }
  return out;
}

}  // namespace gatehouse::proxy::listener
