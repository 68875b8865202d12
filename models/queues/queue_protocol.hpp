// The queue protocol: how consumers take messages from a queue (broker), and how an autoscaler
// reads a queue's backlog and sets a worker pool's size.
//
// Publishing is not part of it: a publish is an ordinary rpc request (RpcRequest) to the queue,
// answered Ok once the message is stored (Rejected when the queue is full). So every producer
// composes the shared Caller (timeouts, retries with backoff, a breaker) to publish, and a
// retried publish whose first answer was lost stores the message twice, as with SQS or Kafka
// without idempotent producers. A published message is (RpcRequest.request_id, RpcRequest.key):
// its id in the run's JobLedger (models/queues/job_ledger.hpp) and its key (the ordering key,
// the shard key and the payload a reduce sums).
//
// Consuming follows SQS's ReceiveMessage with one message per call (a consumer with c slots
// keeps up to c receives outstanding):
//   QueueReceive{call_id, wait}  -> QueueDelivery{call_id, receipt, message, key, receives}
//     The queue answers at once with the oldest visible message; with none, it holds the
//     receive up to `wait` (long polling), then answers with receipt 0 ("empty"). A delivered
//     message is invisible for the queue's visibility timeout; `receipt` names this delivery.
//   QueueAck{receipt}   the consumer is done: the message is deleted (no answer; an ack whose
//                       receipt is no longer the message's latest delivery is ignored).
//   QueueNack{receipt}  the consumer failed it: visible again at once (SQS's
//                       ChangeMessageVisibility to 0).
//   QueueStatsQuery{call_id} -> QueueStatsReply: the backlog, for an autoscaler (the
//                       CloudWatch metrics of an SQS queue, read by KEDA or the HPA).
//
// The scale protocol, between an autoscaler and the workers of a pool:
//   WorkerLoadQuery{call_id} -> WorkerLoadReply: is the worker serving, and how busy it was
//                       since the previous query (the utilization metric of the HPA).
//   WorkerScale{desired, epoch}: the pool should have `desired` workers; worker replica i
//                       serves while i < desired (a new one after its start-up delay). Sent to
//                       every worker; a lower epoch than the last one seen is ignored.
#pragma once

#include <cstdint>

#include "sim/time.hpp"

namespace models {

struct QueueReceive {
  std::uint64_t call_id = 0;
  sim::Duration wait;  // long polling: how long the queue may hold the receive
};

struct QueueDelivery {
  std::uint64_t call_id = 0;   // the receive's
  std::uint64_t receipt = 0;   // this delivery; 0: no message (the wait ran out)
  std::uint64_t message = 0;   // the message's id (JobLedger)
  std::uint64_t key = 0;       // its key
  std::uint32_t receives = 0;  // deliveries of this message so far, this one included
  sim::Time published;         // true time the queue stored it
};

struct QueueAck {
  std::uint64_t receipt = 0;
};

struct QueueNack {
  std::uint64_t receipt = 0;
};

struct QueueStatsQuery {
  std::uint64_t call_id = 0;
};

struct QueueStatsReply {
  std::uint64_t call_id = 0;
  std::uint64_t visible = 0;    // messages waiting to be received
  std::uint64_t in_flight = 0;  // received, not yet acknowledged
  sim::Duration oldest_age;     // age of the oldest visible message (0 when none)
};

struct WorkerLoadQuery {
  std::uint64_t call_id = 0;
};

struct WorkerLoadReply {
  std::uint64_t call_id = 0;
  double busy = 0;           // mean busy slots / slots since the previous query, in [0, 1]
  std::uint8_t serving = 0;  // 1: started and taking messages; 0: idle or starting up
};

struct WorkerScale {
  std::uint32_t desired = 0;
  std::uint64_t epoch = 0;  // increases with every decision of the autoscaler
};

}  // namespace models
