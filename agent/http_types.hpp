// Plain HTTP message types shared by the core and the HTTPS transport port.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace swas {

struct Header {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method;  // "POST"
  std::string target;  // path and query, e.g. "/?InstanceId=...&RegionId=..."
  std::vector<Header> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;  // names as received
  std::string body;
};

// Case-insensitive header lookup; nullptr when absent.
const std::string* find_header(const std::vector<Header>& headers, std::string_view name);

// Where a request goes: "https://host[:port]".
struct Endpoint {
  std::string host;         // DNS name or address, used for SNI and certificate verification
  std::uint16_t port = 443;
  std::string host_header;  // "host" or "host:port" when the port was written explicitly
};

}  // namespace swas
