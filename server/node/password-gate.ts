// Register and login by password, around their hash job. Each runs its
// core's first half as a query (it only reads: no commit to wait for), then
// refuses without hashing if the address or the user name is waiting out
// its failed logins (Ret 1112), the address has used its registrations
// (1112), or maxHashJobs hashes are out already (Ret 2, Busy). Otherwise the
// hash goes to the driver, and when it is back the command's second half is
// handed to `run`, which submits it as its caller submits commands (an HTTP
// request, or a long link's auth with its link limit). A refusal by the
// first half goes through `run` too (see refused()); the gate's own
// refusals rest on nothing stored and are answered at once.
//
// A wrong password counts against both its address and its user name; a
// right one clears the user name's count (the owner got in) but not the
// address's (an attacker's own account must not wash its guesses away).
import type { HashResult } from '../core/deps.ts';
import { refuse, type Plan } from '../core/plan.ts';
import type { ProtocolCore } from '../core/protocol-core.ts';
import type { LoginReply, RegisterReply } from '../core/replies.ts';
import { Ret, errorReply, type ErrorReply } from '../core/ret.ts';
import type { CredentialCheck } from '../core/sessions.ts';
import type { Step } from '../store/store-ops.ts';
import { AddressQuota } from './address-quota.ts';
import type { Runner } from './runner.ts';
import { FailureBackoff } from './failure-backoff.ts';
import { HashJobs, type HashAction } from './hash-jobs.ts';
import type { NodeConfig } from './node-config.ts';
import { addressKey } from './remote-address.ts';

/** Submits a command's second half. */
export type RunStep<R> = (step: Step<Plan<R | ErrorReply>>) => void;
/** Answers at once: nothing was hashed or written. */
export type AnswerNow = (reply: ErrorReply) => void;

export interface GateStats {
  /** Hash jobs out at the driver. */
  hashJobs: number;
  /** Entries in the throttle tables: failures per address and per user name, registrations per address. */
  throttleEntries: number;
}

/** Ret 1112; the ErrMsg ends with the hint a client waits for, as 1111's does. */
function tooManyAttempts(what: string, waitMs: number): ErrorReply {
  return errorReply(Ret.TooManyAttempts, `${what}: retry after ${Math.ceil(waitMs)} ms`);
}

const internalError = (): ErrorReply => errorReply(Ret.ServerError, 'internal error');

/**
 * A first half's refusal, answered as a command is: after the next commit.
 * It may rest on the open batch's writes (a name taken by a register not yet
 * committed), which a crash could still undo.
 */
function* refused(reply: ErrorReply): Step<Plan<ErrorReply>> {
  return refuse(reply);
}

export class PasswordGate {
  private readonly jobs: HashJobs;
  private readonly failuresByAddress: FailureBackoff;
  private readonly failuresByAccount: FailureBackoff;
  private readonly registrations: AddressQuota;

  constructor(
    private readonly core: ProtocolCore,
    private readonly runner: Runner,
    private readonly config: NodeConfig,
    out: (a: HashAction) => void,
  ) {
    const c = config;
    const n = c.maxThrottleEntries;
    this.jobs = new HashJobs(c.maxHashJobs, out);
    const common = { baseDelayMs: c.loginDelayBaseMs, memoryMs: c.loginFailureMemoryMs };
    this.failuresByAddress = new FailureBackoff({ ...common, freeFailures: c.loginFreeFailuresPerAddress, maxDelayMs: c.loginMaxDelayPerAddressMs }, n);
    this.failuresByAccount = new FailureBackoff({ ...common, freeFailures: c.loginFreeFailuresPerAccount, maxDelayMs: c.loginMaxDelayPerAccountMs }, n);
    this.registrations = new AddressQuota(c.registersPerAddressPerHour, c.registerBurstPerAddress, n);
  }

  stats(): GateStats {
    return {
      hashJobs: this.jobs.inFlight,
      throttleEntries: this.failuresByAddress.size + this.failuresByAccount.size + this.registrations.size,
    };
  }

  /** manualauth, or a long link's auth by password, from `remote`. */
  login(body: unknown, remote: string, now: number, run: RunStep<LoginReply>, answerNow: AnswerNow): void {
    // An address waiting out its failures is refused before anything is read for it.
    const address = addressKey(remote);
    const addressWait = this.failuresByAddress.wait(address, now);
    if (addressWait > 0) return answerNow(tooManyAttempts('too many failed logins from this address or for this account', addressWait));
    this.firstHalf(this.core.loginCheck(body), (check) => {
      if ('BaseResponse' in check) return run(refused(check));
      const { userName, work } = check;
      if (work.op !== 'verify') return answerNow(internalError());
      const wait = this.failuresByAccount.wait(userName, now);
      if (wait > 0) return answerNow(tooManyAttempts('too many failed logins from this address or for this account', wait));
      if (this.jobs.full) return answerNow(this.busy());
      this.jobs.start(work, (result, at) => {
        if (result === null) return answerNow(internalError());
        const ok = result === true;
        if (ok) this.failuresByAccount.forget(userName);
        else {
          this.failuresByAddress.failed(address, at);
          this.failuresByAccount.failed(userName, at);
        }
        run(this.core.login(body, at, { stored: work.stored, ok }));
      });
    });
  }

  /** register, from `remote`. */
  register(body: unknown, remote: string, now: number, run: RunStep<RegisterReply>, answerNow: AnswerNow): void {
    const address = addressKey(remote);
    const wait = this.registrations.wait(address, now);
    if (wait > 0) return answerNow(tooManyAttempts('too many registrations from this address', wait));
    this.firstHalf(this.core.registerCheck(body), (check) => {
      if ('BaseResponse' in check) return run(refused(check));
      if (this.jobs.full) return answerNow(this.busy());
      // Checked again: on a store that answers later, other registrations from this address may have taken the quota meanwhile.
      const late = this.registrations.wait(address, now);
      if (late > 0) return answerNow(tooManyAttempts('too many registrations from this address', late));
      this.registrations.take(address, now);
      this.jobs.start(check.work, (result: HashResult | null, at) => {
        if (typeof result !== 'string') return answerNow(internalError());
        run(this.core.register(body, at, result));
      });
    });
  }

  /** The driver's answer to a hash job. */
  hashDone(job: number, result: HashResult | null, now: number): void {
    this.jobs.done(job, result, now);
  }

  /** The first half, run by the runner as a query: at once on a synchronous store, once its reads are answered on one that answers later. */
  private firstHalf(step: Step<CredentialCheck>, then: (check: CredentialCheck) => void): void {
    this.runner.query(step, (check) => then(check ?? internalError()));
  }

  private busy(): ErrorReply {
    return errorReply(Ret.Busy, `too many password checks under way: retry after ${this.config.hashBusyRetryMs} ms`);
  }
}
