// The workflow: intake (parse -> journal) on the intake thread, execution on a worker.
#include "command_processor.hpp"

#include "attempt_rules.hpp"
#include "cloud_response.hpp"
#include "config.hpp"
#include "result_message.hpp"
#include "signer.hpp"
#include "stop_request.hpp"
#include "time_format.hpp"

namespace swas {

RouteDecision CommandProcessor::route_for(const IncomingMessage& msg) const {
  if (msg.response_topic.empty()) return RouteDecision{Route{settings_.command_topic, ""}, std::nullopt};
  if (auto problem = response_route_problem(msg.response_topic, msg.correlation_data,
                                            settings_.policy.allowed_response_topics))
    return RouteDecision{Route{settings_.command_topic, ""}, std::move(problem)};
  return RouteDecision{Route{msg.response_topic, msg.correlation_data}, std::nullopt};
}

std::optional<OutgoingMessage> CommandProcessor::busy_answer(const IncomingMessage& msg, const std::string& why) const {
  ParsedCommand parsed = parse_command(msg.payload, settings_.gateway_id);
  if (std::holds_alternative<NotACommand>(parsed)) return std::nullopt;
  const RouteDecision decision = route_for(msg);
  const Route& route = decision.route;
  OutgoingMessage out{route.topic, "", route.correlation_data, "", false};
  auto* cmd = std::get_if<StopCommand>(&parsed);
  if (decision.problem) {
    // A command whose route is unusable gets that refusal (never stored): it would never run.
    if (!cmd && !std::get<CommandRejection>(parsed).id) return std::nullopt;
    out.payload = cmd ? encode_agent_error(*cmd, decision.problem->code, decision.problem->message)
                      : encode_rejection(CommandRejection{std::get<CommandRejection>(parsed).id, decision.problem->code,
                                                          decision.problem->message});
  } else if (cmd) {
    out.payload = encode_agent_error(*cmd, AgentError::Busy, why + "; send the command again later");
  } else {
    // A command that is invalid anyway gets its validation error: it would never run.
    out.payload = encode_rejection(std::get<CommandRejection>(parsed));
  }
  return out;
}

CommandProcessor::CommandProcessor(ProcessorSettings settings, std::optional<Credentials> credentials,
                                   Clock& clock, Entropy& entropy, Journal& journal,
                                   MessagePublisher& publisher, Telemetry& telemetry, Logger& logger)
    : settings_(std::move(settings)),
      cloud_(std::move(credentials), settings_.endpoint_override, settings_.retry, clock, entropy, logger),
      clock_(clock), journal_(journal), publisher_(publisher), telemetry_(telemetry), logger_(logger),
      bucket_(settings_.policy.rate_limit) {}

void CommandProcessor::log(LogLevel level, const std::string& line) {
  if (logger_.enabled(level)) logger_.write(level, line);
}

void CommandProcessor::answer(const std::string& id, const Route& route, const std::string& payload) {
  publisher_.publish(OutgoingMessage{route.topic, payload, route.correlation_data, id, false});
}

// Answers a command refused before the journal (Unauthenticated, Throttled): not recorded, so a
// forged or early message can never pre-empt the real command's result.
void CommandProcessor::refuse(const ParsedCommand& parsed, const Route& route, AgentError code, const std::string& why) {
  std::string payload;
  if (const auto* cmd = std::get_if<StopCommand>(&parsed)) payload = encode_agent_error(*cmd, code, why);
  else payload = encode_rejection(CommandRejection{std::get<CommandRejection>(parsed).id, code, why});
  telemetry_.finished(CommandOutcome::Rejected, false, std::string(to_string(code)) + ": " + why);
  publisher_.publish(OutgoingMessage{route.topic, payload, route.correlation_data, "", false});
}

// A command already known to the journal: its recorded result, or a promise of it.
bool CommandProcessor::answer_known(const std::string& id, const Route& route, const BeginResult& known) {
  if (known.state == BeginState::Finished) {
    log(LogLevel::Info, "command " + id + " is a duplicate; answering its recorded result");
    answer(id, route, known.result_payload);
    return true;
  }
  if (known.state == BeginState::InFlight) {
    log(LogLevel::Info, "command " + id + " is a duplicate of one in flight; it will be answered too");
    if (!known.waiter_added) journal_.add_waiter(id, route);
    return true;
  }
  return false;
}

namespace {

const char* kOverRateLimit =
    "this gateway's rate limit (policy.rate_limit) is exceeded; send the command again later";

// What the journal keeps of a message: the command's fields with the ClientToken fixed now, and
// the earlier of expiresAt and the MQTT 5 Message Expiry. A rejection keeps only its id and route.
JournalRecord journal_record(const ParsedCommand& parsed, const IncomingMessage& msg, const Route& route) {
  JournalRecord rec;
  rec.route = route;
  rec.accepted_ms = msg.received_ms;
  if (const auto* rejection = std::get_if<CommandRejection>(&parsed)) {
    rec.id = rejection->id.value_or("");
    return rec;
  }
  const auto& cmd = std::get<StopCommand>(parsed);
  rec = JournalRecord{cmd.id,           cmd.action,       cmd.instance_id, cmd.region_id, cmd.client_token, route,
                      msg.received_ms,  cmd.expires_at_ms, cmd.instance_ids, cmd.force_stop};
  if (msg.message_expiry_s) {
    const std::int64_t mqtt_expiry = msg.received_ms + std::int64_t{*msg.message_expiry_s} * 1000;
    if (!rec.expires_at_ms || mqtt_expiry < *rec.expires_at_ms) rec.expires_at_ms = mqtt_expiry;
  }
  return rec;
}

}  // namespace

// Everything intake does before the journal: parse, route, authenticate, policy, rate limit.
// Answers what needs no journal entry; otherwise returns what to record.
std::optional<CommandProcessor::Screened> CommandProcessor::screen(const IncomingMessage& msg,
                                                                   const std::set<std::string>& batch_ids) {
  ParsedCommand parsed = parse_command(msg.payload, settings_.gateway_id);
  if (auto* other = std::get_if<NotACommand>(&parsed)) {
    log(LogLevel::Debug, "ignored a message of type \"" + other->type + "\" on " + msg.topic);
    return std::nullopt;
  }
  telemetry_.received();
  const RouteDecision decision = route_for(msg);
  const Route& route = decision.route;
  auto* rejection = std::get_if<CommandRejection>(&parsed);
  if (rejection && !rejection->id && decision.problem) {
    // Neither the command nor its route can be used: there is nothing to address an answer to.
    log(LogLevel::Warn, "unreadable command with an unusable Response Topic ignored: " + decision.problem->message);
    telemetry_.finished(CommandOutcome::Rejected, false, rejection->message);
    return std::nullopt;
  }
  if (rejection && !rejection->id) {
    log(LogLevel::Warn, "unreadable command rejected: " + rejection->message);
    telemetry_.finished(CommandOutcome::Rejected, false, rejection->message);
    publisher_.publish(OutgoingMessage{route.topic, encode_rejection(*rejection), route.correlation_data, "", false});
    return std::nullopt;
  }
  const std::string id = rejection ? *rejection->id : std::get<StopCommand>(parsed).id;
  if (decision.problem) {
    // Refused before the journal: an unusable route is never stored, so it is never republished.
    log(LogLevel::Warn, "command " + id + " refused: " + std::string(to_string(decision.problem->code)) + ": " +
                            decision.problem->message);
    refuse(parsed, route, decision.problem->code, decision.problem->message);
    return std::nullopt;
  }
  const std::int64_t now = clock_.now_unix_ms();
  if (!settings_.command_key.empty()) {
    // The gateway's own clock, without the correction learnt from the cloud's Date: whoever
    // answers as the cloud must not be able to widen the window a signed command is fresh in.
    const std::int64_t own_clock = now - clock_.offset_ms();
    if (auto why = authentication_failure(msg.payload, settings_.command_key, settings_.gateway_id, own_clock,
                                          settings_.policy.max_command_age_s)) {
      log(LogLevel::Warn, "command " + id + " refused: Unauthenticated: " + *why);
      refuse(parsed, route, AgentError::Unauthenticated, *why);
      return std::nullopt;
    }
  }
  Screened screened{journal_record(parsed, msg, route), std::move(parsed), std::nullopt, now};
  if (auto* cmd = std::get_if<StopCommand>(&screened.parsed)) {
    if (auto why = policy_violation(settings_.policy, *cmd)) {
      screened.refusal = CommandRejection{cmd->id, AgentError::Forbidden, *why};
    } else if (!bucket_.try_take(now)) {
      if (auto known = journal_.find(id); known && answer_known(id, route, *known)) return std::nullopt;
      if (batch_ids.count(id) > 0) {
        // Its earlier delivery in this batch is not journaled yet: admit() decides once it is.
        screened.over_rate_limit = true;
        return screened;
      }
      log(LogLevel::Warn, "command " + id + " refused: over policy.rate_limit");
      refuse(screened.parsed, route, AgentError::Throttled, kOverRateLimit);
      return std::nullopt;
    }
  } else {
    screened.refusal = std::get<CommandRejection>(screened.parsed);
  }
  return screened;
}

// Everything intake does after the journal answered `begun` for `s`.
std::optional<ExecutionItem> CommandProcessor::admit(Screened& s, const Expected<BeginResult, std::string>& begun) {
  const std::string& id = s.record.id;
  const Route& route = s.record.route;
  if (s.over_rate_limit &&
      !(begun && (begun->state == BeginState::InFlight || begun->state == BeginState::Finished))) {
    log(LogLevel::Warn, "command " + id + " refused: over policy.rate_limit");
    refuse(s.parsed, route, AgentError::Throttled, kOverRateLimit);
    return std::nullopt;
  }
  if (!begun || begun->state == BeginState::Full) {
    const std::string why = begun ? "the journal is full of unfinished commands" : "the journal failed: " + begun.error();
    log(LogLevel::Error, "command " + id + ": " + why + "; answering Busy");
    telemetry_.finished(CommandOutcome::Rejected, false, why);
    const auto* cmd = std::get_if<StopCommand>(&s.parsed);
    const std::string payload = cmd ? encode_agent_error(*cmd, AgentError::Busy, why + "; send the command again later")
                                    : encode_rejection(std::get<CommandRejection>(s.parsed));
    publisher_.publish(OutgoingMessage{route.topic, payload, route.correlation_data, "", false});
    return std::nullopt;
  }
  if (answer_known(id, route, *begun)) return std::nullopt;
  if (s.refusal) {
    const CommandRejection& refusal = *s.refusal;
    log(LogLevel::Warn, "command " + id + " rejected: " + std::string(to_string(refusal.code)) + ": " + refusal.message);
    telemetry_.finished(CommandOutcome::Rejected, false, refusal.message);
    const auto* cmd = std::get_if<StopCommand>(&s.parsed);
    const std::string payload = cmd ? encode_agent_error(*cmd, refusal.code, refusal.message) : encode_rejection(refusal);
    auto extra = journal_.finish(id, payload);
    answer(id, route, payload);
    if (extra) for (const auto& r : *extra) answer(id, r, payload);
    return std::nullopt;
  }
  ExecutionItem item{std::get<StopCommand>(std::move(s.parsed)), route, s.record.expires_at_ms, false,
                     s.record.accepted_ms};
  // Accepted behind others waiting for the cloud's rate quota: say so now, not only when a worker
  // takes it (that may be minutes later under a quota of a few calls a minute).
  if (pacer_) {
    if (const std::size_t ahead = pacer_->waiting(item.command.api_action()); ahead > 0) {
      rate_limited_progress(item, std::nullopt, std::nullopt, ahead);
      item.told_ms = s.screened_ms;
    }
  }
  return item;
}

std::optional<ExecutionItem> CommandProcessor::intake(const IncomingMessage& msg) {
  auto screened = screen(msg);
  if (!screened) return std::nullopt;
  return admit(*screened, journal_.begin(screened->record));
}

std::vector<ExecutionItem> CommandProcessor::intake_many(const std::vector<IncomingMessage>& msgs) {
  std::vector<Screened> screened;
  screened.reserve(msgs.size());
  std::vector<JournalRecord> records;
  records.reserve(msgs.size());
  std::set<std::string> ids;
  for (const auto& msg : msgs) {
    if (auto s = screen(msg, ids)) {
      ids.insert(s->record.id);
      records.push_back(s->record);
      screened.push_back(std::move(*s));
    }
  }
  std::vector<ExecutionItem> items;
  if (screened.empty()) return items;
  auto begun = journal_.begin_many(records);
  // A later delivery in the same batch of a command this batch records is InFlight with its route
  // registered by the journal: the first one's finish (a refusal's, right here in admit(), or a
  // worker's) answers it too.
  for (std::size_t i = 0; i < screened.size(); ++i) {
    Expected<BeginResult, std::string> result = begun ? Expected<BeginResult, std::string>((*begun)[i])
                                                      : Expected<BeginResult, std::string>(unexpected(begun.error()));
    if (auto item = admit(screened[i], result)) items.push_back(std::move(*item));
  }
  return items;
}

void CommandProcessor::execute(const ExecutionItem& item, HttpsTransport& transport) {
  const StopCommand& cmd = item.command;
  Outcome outcome;
  bool started = false;
  if (item.expires_at_ms && clock_.now_unix_ms() > *item.expires_at_ms) {
    const std::string when = format_iso8601_utc(*item.expires_at_ms / 1000);
    outcome = {encode_agent_error(cmd, AgentError::CommandExpired,
                                  "the command expired at " + when + " before it could run" +
                                      (item.resumed ? " (it was accepted before a restart and may have reached "
                                                      "the cloud; resend it with the same ClientToken to learn its outcome)"
                                                    : "; it was not executed")),
               CommandOutcome::Rejected, "CommandExpired"};
    log(LogLevel::Warn, "command " + cmd.id + " expired before it ran");
  } else {
    log(LogLevel::Info, "command " + cmd.id + (item.resumed ? " resumed: " : ": ") + cmd.api_action() + " " +
                            (cmd.many() ? std::to_string(cmd.instance_ids.size()) + " instances" : cmd.instance_id) +
                            (cmd.force_stop ? " (ForceStop)" : "") + " in " + cmd.region_id +
                            " ClientToken=" + cmd.client_token);
    telemetry_.started();
    started = true;
    outcome = call_cloud(item, transport);
  }
  telemetry_.finished(outcome.kind, started, outcome.error);
  if (outcome.abandoned) {
    log(LogLevel::Info, "command " + cmd.id + " left unfinished in the journal; it resumes with the same "
                        "ClientToken when the agent starts again");
    return;
  }
  // One follow per instance of a successful stop, journaled with the result.
  std::vector<FollowRecord> follows;
  if (follow_sink_ && outcome.kind == CommandOutcome::Succeeded) {
    const std::int64_t deadline = clock_.now_unix_ms() + std::int64_t{settings_.follow_deadline_s} * 1000;
    for (const auto& instance : cmd.instances())
      follows.push_back(FollowRecord{cmd.id, instance, cmd.region_id, outcome.request_id, item.route, item.accepted_ms,
                                     deadline, "", cmd.many()});
  }
  auto extra = journal_.finish(cmd.id, outcome.payload, follows);
  if (!extra) log(LogLevel::Error, "command " + cmd.id + ": the journal could not record the result: " + extra.error());
  answer(cmd.id, item.route, outcome.payload);
  if (extra) for (const auto& r : *extra) answer(cmd.id, r, outcome.payload);
  // After the result: the follower's first message can never overtake it. When the journal failed,
  // the follows are handed over anyway: the follower then reports NotFollowed.
  for (const auto& follow : follows) {
    if (follow_sink_->follow(follow, extra.has_value())) continue;
    journal_.follow_dropped(follow.key());
    LifecycleReport report;
    report.outcome = FollowOutcome::NotFollowed;
    report.elapsed_ms = clock_.now_unix_ms() - item.accepted_ms;
    report.message = "the agent's follow queue is full; check the instance in the console";
    log(LogLevel::Warn, "command " + cmd.id + ": " + follow.instance_id + ": " + report.message);
    publisher_.publish(OutgoingMessage{item.route.topic, encode_lifecycle(follow, report), item.route.correlation_data,
                                       "", false});
  }
}

std::vector<ExecutionItem> CommandProcessor::recover() {
  std::vector<ExecutionItem> items;
  for (auto& rec : journal_.unfinished()) {
    StopCommand cmd{rec.id,           rec.action, rec.instance_id, rec.region_id, rec.client_token, false,
                    rec.expires_at_ms, rec.instance_ids, rec.force_stop};
    items.push_back(ExecutionItem{std::move(cmd), rec.route, rec.expires_at_ms, true, rec.accepted_ms});
  }
  if (!items.empty()) log(LogLevel::Info, "resuming " + std::to_string(items.size()) + " unfinished command(s)");
  return items;
}

std::size_t CommandProcessor::republish_unacknowledged(std::int64_t before_ms) {
  const auto pending = journal_.unacknowledged(before_ms);
  for (const auto& p : pending) answer(p.id, p.route, p.payload);
  if (!pending.empty())
    log(LogLevel::Info, "published " + std::to_string(pending.size()) + " unacknowledged result(s) again");
  return pending.size();
}


}  // namespace swas
