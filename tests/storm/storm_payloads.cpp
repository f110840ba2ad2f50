// Each kind below targets one way a payload can be hostile; variants are chosen by a seeded
// SplitMix64 (not <random>'s distributions, whose output differs between standard libraries).
#include "storm_payloads.hpp"

#include <cstdio>
#include <functional>
#include <utility>

#include "limits.hpp"

namespace swas::storm {
namespace {

using Expect = StormPayload::Expect;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  template <typename T, std::size_t N>
  const T& pick(const T (&items)[N]) { return items[below(N)]; }

 private:
  std::uint64_t state_;
};

// A command as (key, raw JSON value) members, so any value can be replaced by any text.
using Members = std::vector<std::pair<std::string, std::string>>;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

Members valid_members(const std::string& id) {
  return {{"id", quoted(id)},
          {"action", quoted("StopInstance")},
          {"InstanceId", quoted("i-1")},
          {"RegionId", quoted("cn-hangzhou")},
          {"ClientToken", quoted("tok-" + id)}};
}

std::string render(const Members& members) {
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1) out += ",";
    out += quoted(key) + ":" + value;
  }
  return out + "}";
}

void set(Members& m, const std::string& key, const std::string& raw) {
  for (auto& [k, v] : m)
    if (k == key) {
      v = raw;
      return;
    }
  m.emplace_back(key, raw);
}

void erase(Members& m, const std::string& key) {
  for (auto it = m.begin(); it != m.end(); ++it)
    if (it->first == key) {
      m.erase(it);
      return;
    }
}

// The command fields that, when wrong, still leave the id readable.
const char* const kFields[] = {"action", "InstanceId", "RegionId", "ClientToken"};

// A payload that would be valid but for `field` being made invalid (the id stays readable).
std::string invalid_field(const std::string& id, Rng& rng) {
  Members m = valid_members(id);
  switch (rng.below(4)) {
    case 0: erase(m, "InstanceId"); break;
    case 1: erase(m, "RegionId"); break;
    case 2: set(m, "RegionId", quoted("CN_HANGZHOU")); break;
    default: set(m, "ClientToken", quoted(std::string(65, 't'))); break;
  }
  return render(m);
}

std::string nested(std::size_t depth, bool objects) {
  if (objects) {
    std::string out;
    for (std::size_t i = 0; i < depth; ++i) out += "{\"a\":";
    out += "1";
    return out + std::string(depth, '}');
  }
  return std::string(depth, '[') + std::string(depth, ']');
}

StormPayload with_id(std::string payload, const std::string& id) { return {std::move(payload), Expect::Id, id, ""}; }
StormPayload null_id(std::string payload) { return {std::move(payload), Expect::NullId, "", ""}; }

StormPayload truncated(const std::string& id, Rng& rng) {
  const std::string full = render(valid_members(id));
  return null_id(full.substr(0, rng.below(full.size())));  // every proper prefix is invalid JSON
}

StormPayload deep(const std::string& id, Rng& rng) {
  // The command object is level 1: a member nests at most kMaxJsonDepth - 1 more.
  const std::size_t within = limits::kMaxJsonDepth - 1;
  switch (rng.below(6)) {
    case 0: return null_id(nested(10000, rng.below(2) == 0));  // over 8 KiB: refused unparsed
    case 1: return null_id(nested(1100 + rng.below(2900), false));  // over cJSON's nesting limit
    case 2: {  // a readable id, but the document nests too deep to be JSON for the agent
      Members m = valid_members(id);
      set(m, "x", nested(1100 + rng.below(2400), false));
      return null_id(render(m));
    }
    case 3: {  // a readable id, nested past the agent's bound but within cJSON's: refused unparsed
      Members m = valid_members(id);
      set(m, "x", nested(within + 1 + rng.below(900), rng.below(2) == 0));
      return null_id(render(m));
    }
    case 4: {  // deep but within the bound: parsed, then refused for a missing field
      Members m = valid_members(id);
      erase(m, "InstanceId");
      set(m, "x", nested(1 + rng.below(within), rng.below(2) == 0));
      return with_id(render(m), id);
    }
    default: {
      Members m = valid_members(id);
      set(m, "InstanceId", nested(1 + rng.below(within), true));
      return with_id(render(m), id);
    }
  }
}

StormPayload huge_number(const std::string& id, Rng& rng) {
  const std::string numbers[] = {"1e999999", "-1e999999", std::string(400, '9'), "123456789012345678901234567890",
                                 "-0.0000000000000000000000000001e-400", "1" + std::string(300, '0') + ".5"};
  const std::string& n = rng.pick(numbers);
  switch (rng.below(4)) {
    case 0: {
      Members m = valid_members(id);
      set(m, kFields[rng.below(4)], n);
      return with_id(render(m), id);
    }
    case 1: {
      Members m = valid_members(id);
      set(m, "id", n);
      return null_id(render(m));
    }
    case 2: return null_id(n);
    default: {
      Members m = valid_members(id);
      erase(m, "RegionId");
      set(m, "big", "[" + n + "," + n + "]");
      return with_id(render(m), id);
    }
  }
}

StormPayload invalid_utf8(const std::string& id, Rng& rng) {
  const std::string bad[] = {"\xff", "\xfe\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80",
                             "\x80", "\xf8\x88\x80\x80\x80"};
  const std::string& b = rng.pick(bad);
  Members m = valid_members(id);
  switch (rng.below(5)) {
    case 0: set(m, "InstanceId", quoted("i-" + b)); return with_id(render(m), id);
    case 1: set(m, "action", quoted("Stop" + b)); return with_id(render(m), id);
    case 2: set(m, "RegionId", quoted("cn-" + b)); return with_id(render(m), id);
    case 3: set(m, "id", quoted(id + b)); return null_id(render(m));
    default: {
      std::string garbage;
      for (std::size_t i = 0, n = 1 + rng.below(200); i < n; ++i)
        garbage.push_back(static_cast<char>(0x80 + rng.below(0x80)));
      return null_id(garbage);  // bytes >= 0x80 outside a string are never JSON
    }
  }
}

// A NUL makes a document invalid JSON, raw or escaped as \u0000 inside a string: the agent must
// not read the text before it as the value (that would stop a different instance than written).
StormPayload nul_bytes(const std::string& id, Rng& rng) {
  Members m = valid_members(id);
  const std::string nul(1, '\0');
  switch (rng.below(6)) {
    case 0: {
      std::string p = render(m);
      return null_id(p.insert(1 + rng.below(p.size() - 1), nul));
    }
    case 1: set(m, "InstanceId", quoted("i-1" + nul + "i-2")); return null_id(render(m));
    case 2: set(m, "action", quoted("StopInstance" + nul + "Reboot")); return null_id(render(m));
    case 3: set(m, "id", quoted(id + "\\u0000x")); return null_id(render(m));
    case 4: set(m, "InstanceId", quoted("i-1\\u0000; i-2")); return null_id(render(m));
    default: return null_id(std::string(1 + rng.below(64), '\0'));
  }
}

StormPayload wrong_type(const std::string& id, Rng& rng) {
  const char* const values[] = {"17", "true", "false", "null", "[]", "{}", "[\"i-1\"]", "{\"a\":\"b\"}", "1.5"};
  const std::string value = rng.pick(values);
  Members m = valid_members(id);
  switch (rng.below(6)) {
    case 0: set(m, "id", value); return null_id(render(m));
    case 1: set(m, "type", value); return null_id(render(m));  // type is checked before id
    default: set(m, kFields[rng.below(4)], value); return with_id(render(m), id);
  }
}

StormPayload oversize(const std::string& id, Rng& rng) {
  Members m = valid_members(id);
  if (rng.below(4) == 0) {  // exactly at the bound: parsed, refused for the missing RegionId
    erase(m, "RegionId");
    const std::size_t base = render(m).size() + std::string(",\"pad\":\"\"").size();
    set(m, "pad", quoted(std::string(8192 - base, 'p')));
    return with_id(render(m), id);
  }
  set(m, "pad", quoted(std::string(8193 + rng.below(8000), 'p')));
  return null_id(render(m));
}

StormPayload duplicate_key(const std::string& id, Rng& rng) {
  Members m = valid_members(id);
  const char* const keys[] = {"id", "action", "InstanceId", "RegionId", "ClientToken"};
  const std::string key = rng.pick(keys);
  std::string value;
  for (const auto& [k, v] : m)
    if (k == key) value = v;
  if (key != "id" && rng.below(2) == 0) value = quoted("i-2");
  m.emplace_back(key, value);
  return with_id(render(m), id);
}

StormPayload long_id(const std::string& id, Rng& rng) {
  Members m = valid_members(id);
  switch (rng.below(4)) {
    case 0: set(m, "id", quoted(id + "-" + std::string(128 + rng.below(7000), 'x'))); return null_id(render(m));
    case 1: {  // exactly 128: readable
      const std::string at_bound = id + "-" + std::string(128 - id.size() - 1, 'x');
      return with_id(invalid_field(at_bound, rng), at_bound);
    }
    case 2: set(m, "id", quoted("")); return null_id(render(m));
    default: erase(m, "id"); return null_id(render(m));
  }
}

std::string escaped(const std::string& ascii) {
  std::string out;
  char buf[8];
  for (char c : ascii) {
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    out += buf;
  }
  return out;
}

StormPayload unicode_escape(const std::string& id, Rng& rng) {
  Members m = valid_members(id);
  switch (rng.below(6)) {
    case 0: {  // the id spelled with escapes is the same id; the region is not valid
      set(m, "id", quoted(escaped(id)));
      set(m, "RegionId", quoted("cn-\\u0048angzhou"));
      return with_id(render(m), id);
    }
    case 1: set(m, "action", quoted("\\u0053top\\u0049nstance")); erase(m, "InstanceId"); return with_id(render(m), id);
    case 2: set(m, "id", quoted(id + "\\u00e9")); return null_id(render(m));
    case 3: set(m, "id", quoted(id + (rng.below(2) ? "\\ud800" : "\\udc00x"))); return null_id(render(m));
    case 4: set(m, "InstanceId", quoted("i-\\ud83d\\ude00")); erase(m, "RegionId"); return with_id(render(m), id);
    default: {
      const char* const bad[] = {"\\u0001", "\\u007f", "\\u0085", "\\u001b[31m", "\\n"};
      set(m, "InstanceId", quoted(std::string("i-1") + rng.pick(bad)));
      return with_id(render(m), id);
    }
  }
}

StormPayload bad_value(const std::string& id, Rng& rng) {
  Members m = valid_members(id);
  switch (rng.below(7)) {
    case 0: set(m, "RegionId", quoted(rng.below(2) ? "cn hangzhou" : std::string(65, 'a'))); break;
    case 1: set(m, "ClientToken", quoted(std::string(65 + rng.below(4000), 't'))); break;
    case 2: set(m, "InstanceId", quoted(std::string(257 + rng.below(3000), 'i'))); break;
    case 3: set(m, "InstanceId", quoted("")); break;
    case 4: set(m, "action", quoted(rng.below(2) ? "stopinstance" : "StopInstance ")); break;
    case 5: set(m, "RegionId", quoted("")); break;
    default: set(m, "ClientToken", quoted("jeton-\\u00e9t\\u00e9")); break;
  }
  return with_id(render(m), id);
}

StormPayload trivial(const std::string&, Rng& rng) {
  const char* const payloads[] = {"", " ", "\n", "null", "[]", "{}", "0", "\"StopInstance\"", "true", "{\"\":\"\"}",
                                  "{\"id\":\"x\"", "}{", "{\"id\":\"x\"}}", "[{\"id\":\"x\"}]"};
  return null_id(rng.pick(payloads));
}

StormPayload not_a_command(const std::string& id, Rng& rng) {
  Members m = valid_members(id);
  set(m, "type", quoted(rng.below(2) ? "status" : "result"));
  return {render(m), Expect::Ignored, "", ""};
}

struct Kind {
  const char* name;
  std::function<StormPayload(const std::string&, Rng&)> make;
};

}  // namespace

std::vector<StormPayload> make_storm(std::uint64_t seed, std::size_t count) {
  const Kind kinds[] = {{"truncated", truncated},       {"deep-nesting", deep},     {"huge-number", huge_number},
                        {"invalid-utf8", invalid_utf8}, {"nul-byte", nul_bytes},    {"wrong-type", wrong_type},
                        {"oversize", oversize},         {"duplicate-key", duplicate_key}, {"long-id", long_id},
                        {"unicode-escape", unicode_escape}, {"bad-value", bad_value}, {"trivial", trivial},
                        {"not-a-command", not_a_command}};
  Rng rng(seed);
  std::vector<StormPayload> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const Kind& kind = kinds[i % (sizeof kinds / sizeof kinds[0])];
    StormPayload p = kind.make("s-" + std::to_string(i), rng);
    p.kind = kind.name;
    out.push_back(std::move(p));
  }
  return out;
}

std::string printable(const std::string& payload, std::size_t max_chars) {
  std::string out;
  char buf[8];
  for (char c : payload) {
    if (out.size() >= max_chars) return out + "...(" + std::to_string(payload.size()) + " bytes)";
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out.push_back(c);
    } else {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(u));
      out += buf;
    }
  }
  return out;
}

}  // namespace swas::storm
