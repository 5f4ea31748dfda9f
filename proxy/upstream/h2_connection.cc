#include "proxy/upstream/h2_connection.h"

#include <algorithm>
#include <cstring>

namespace gatehouse::proxy::upstream {

namespace {

constexpr int32_t kStreamWindow = 1 << 20;       // 1 MiB per stream
constexpr int32_t kConnectionWindow = 16 << 20;  // 16 MiB per connection

std::vector<nghttp2_nv> ToNv(const HeaderList& headers) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    nghttp2_nv nv;
    nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
    nv.namelen = name.size();
    nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
    nv.valuelen = value.size();
    nv.flags = NGHTTP2_NV_FLAG_NONE;
    nva.push_back(nv);
  }
  return nva;
}

}  // namespace

// nghttp2 calls these with the H2Connection as user data.
struct H2Callbacks {
  static H2Connection& Self(void* p) { return *static_cast<H2Connection*>(p); }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Connection& c = Self(user);
    if (c.role_ != H2Connection::Role::kServer || frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;
    }
    auto stream = std::make_shared<H2Stream>(c.ex_);
    stream->id = frame->hd.stream_id;
    c.streams_[stream->id] = stream;
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    H2Connection& c = Self(user);
    H2Stream* s = c.Find(frame->hd.stream_id);
    if (s == nullptr || frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto& list = s->headers_done ? s->trailers : s->headers;
    list.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                      std::string(reinterpret_cast<const char*>(value), valuelen));
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Connection& c = Self(user);
    H2Stream* s = c.Find(frame->hd.stream_id);
    if (s == nullptr) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (!s->headers_done) {
        // A 1xx response is interim: drop it and wait for the final header block.
        bool interim = c.role_ == H2Connection::Role::kClient && !s->headers.empty() &&
                       s->headers[0].first == ":status" && s->headers[0].second.size() == 3 &&
                       s->headers[0].second[0] == '1';
        if (interim) {
          s->headers.clear();
          return 0;
        }
        s->headers_done = true;
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) s->in_done = true;
        if (c.role_ == H2Connection::Role::kServer && c.on_request_) {
          auto it = c.streams_.find(s->id);
          if (it != c.streams_.end()) c.on_request_(it->second);
        }
      } else if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        s->in_done = true;
      }
      s->signal.Notify();
    } else if (frame->hd.type == NGHTTP2_DATA && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      s->in_done = true;
      s->signal.Notify();
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user) {
    H2Connection& c = Self(user);
    H2Stream* s = c.Find(stream_id);
    if (s == nullptr) return 0;
    s->in.emplace_back(reinterpret_cast<const char*>(data), len);
    s->in_bytes += len;
    s->signal.Notify();
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
    H2Connection& c = Self(user);
    auto it = c.streams_.find(stream_id);
    if (it == c.streams_.end()) return 0;
    std::shared_ptr<H2Stream> s = it->second;
    c.streams_.erase(it);
    s->closed = true;
    s->error_code = error_code;
    s->signal.Notify();
    return 0;
  }

  static ssize_t ReadData(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source* source, void* user) {
    auto* s = static_cast<H2Stream*>(source->ptr);
    size_t written = 0;
    while (written < length && !s->out.empty()) {
      const std::string& front = s->out.front();
      size_t n = std::min(length - written, front.size() - s->out_offset);
      std::memcpy(buf + written, front.data() + s->out_offset, n);
      written += n;
      s->out_offset += n;
      s->out_bytes -= n;
      if (s->out_offset == front.size()) {
        s->out.pop_front();
        s->out_offset = 0;
      }
    }
    if (written > 0) s->signal.Notify();  // room for more
    if (s->out.empty() && s->out_done) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (s->has_out_trailers) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        auto nva = ToNv(s->out_trailers);
        nghttp2_submit_trailer(session, stream_id, nva.data(), nva.size());
      }
      return static_cast<ssize_t>(written);
    }
    if (written == 0) {
      s->out_deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    return static_cast<ssize_t>(written);
  }
};

H2Connection::H2Connection(boost::asio::any_io_executor ex, Role role, RequestFn on_request)
    : ex_(ex), role_(role), on_request_(std::move(on_request)), write_signal_(ex) {
  nghttp2_session_callbacks* cbs;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &H2Callbacks::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &H2Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &H2Callbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &H2Callbacks::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &H2Callbacks::OnStreamClose);
  nghttp2_option* opt;
  nghttp2_option_new(&opt);
  // Windows open as the consumer takes data, so a slow upstream slows the client.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  if (role == Role::kServer) {
    nghttp2_session_server_new2(&session_, cbs, this, opt);
  } else {
    nghttp2_session_client_new2(&session_, cbs, this, opt);
  }
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
}

H2Connection::~H2Connection() {
  for (auto& [id, s] : streams_) {
    s->closed = true;
    s->signal.Notify();
  }
  nghttp2_session_del(session_);
}

void H2Connection::Start(uint32_t max_concurrent_streams) {
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  size_t n = role_ == Role::kServer ? 2 : 3;
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, n);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
}

bool H2Connection::Feed(const uint8_t* data, size_t size) {
  ssize_t r = nghttp2_session_mem_recv(session_, data, size);
  return r >= 0;
}

bool H2Connection::CollectOutput(std::string& out) {
  const uint8_t* data = nullptr;
  ssize_t n = nghttp2_session_mem_send(session_, &data);
  if (n <= 0) return false;
  out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  return true;
}

bool H2Connection::Done() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

bool H2Connection::accepting_streams() const {
  return !broken_ && !going_away_ && nghttp2_session_check_request_allowed(session_) != 0;
}

H2Stream* H2Connection::Find(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

std::shared_ptr<H2Stream> H2Connection::SubmitRequest(const HeaderList& headers, bool has_body) {
  if (!accepting_streams()) return nullptr;
  auto stream = std::make_shared<H2Stream>(ex_);
  auto nva = ToNv(headers);
  nghttp2_data_provider prd;
  prd.source.ptr = stream.get();
  prd.read_callback = &H2Callbacks::ReadData;
  int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                      has_body ? &prd : nullptr, stream.get());
  if (id < 0) return nullptr;
  stream->id = id;
  if (!has_body) stream->out_done = true;
  streams_[id] = stream;
  write_signal_.Notify();
  return stream;
}

bool H2Connection::SubmitResponse(H2Stream& stream, const HeaderList& headers, bool has_body) {
  auto nva = ToNv(headers);
  nghttp2_data_provider prd;
  prd.source.ptr = &stream;
  prd.read_callback = &H2Callbacks::ReadData;
  int r = nghttp2_submit_response(session_, stream.id, nva.data(), nva.size(),
                                  has_body ? &prd : nullptr);
  if (!has_body) stream.out_done = true;
  write_signal_.Notify();
  return r == 0;
}

void H2Connection::Send(H2Stream& stream, std::string data, bool last) {
  if (stream.closed) return;
  if (!data.empty()) {
    stream.out_bytes += data.size();
    stream.out.push_back(std::move(data));
  }
  if (last) stream.out_done = true;
  if (stream.out_deferred) {
    stream.out_deferred = false;
    nghttp2_session_resume_data(session_, stream.id);
  }
  write_signal_.Notify();
}

void H2Connection::SendTrailers(H2Stream& stream, HeaderList trailers) {
  if (stream.closed) return;
  stream.has_out_trailers = true;
  stream.out_trailers = std::move(trailers);
  Send(stream, {}, true);
}

void H2Connection::Reset(H2Stream& stream, uint32_t error_code) {
  if (stream.closed) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, error_code);
  write_signal_.Notify();
}

void H2Connection::Consume(H2Stream& stream, size_t n) {
  if (n == 0) return;
  nghttp2_session_consume(session_, stream.id, n);
  write_signal_.Notify();
}

size_t H2Connection::TakeData(H2Stream& stream, std::string& out) {
  size_t n = 0;
  while (!stream.in.empty()) {
    n += stream.in.front().size();
    out += stream.in.front();
    stream.in.pop_front();
  }
  stream.in_bytes = 0;
  if (!stream.closed) Consume(stream, n);
  return n;
}

void H2Connection::GoAway() {
  if (going_away_) return;
  going_away_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  write_signal_.Notify();
}

void H2Connection::Terminate(uint32_t error_code) {
  nghttp2_session_terminate_session(session_, error_code);
  write_signal_.Notify();
}

}  // namespace gatehouse::proxy::upstream
