// The storage seam: everything control persists goes through this interface, so a networked
// database (pg-repository.ts, PostgreSQL) can replace the embedded SQLite one
// (sqlite-repository.ts). Every method returns a promise because a networked store answers
// later; the SQLite one answers at once. Methods that must be atomic (enrollment, starting a
// session under a stream limit) are single calls here, so each implementation can make them one
// transaction.

export type SiteKind = 'embedded' | 'ix';

export interface Site {
  siteId: string;
  kind: SiteKind;
  region: string;
  timeZone: string;
  /** local time "HH:MM" */
  fillWindow: { start: string; end: string };
}

export interface ApplianceRow {
  applianceId: string;
  siteId: string;
  name: string;
  publicUrl: string;
  createdAt: number;
  operatorDrain: boolean;
  /** the last accepted report's state, as the fleet serialises it (JSON) */
  snapshot: string | null;
  /** JSON, written only when the inventory changed */
  inventory: string | null;
  /** JSON: the route set as stores kept it before the route log (routeLog); read, no longer written */
  routes: string | null;
}

/**
 * One entry of an appliance's route log (steering/route-log.ts encodes them): a full set, which
 * replaces every earlier entry of that appliance, or a delta on what precedes it.
 */
export interface RouteEntry { full: boolean; body: Buffer }
export interface RouteLogRow extends RouteEntry { applianceId: string }

/** `routeLog`: entries to append, in order (a full one first, if any) */
export interface ApplianceSnapshot { applianceId: string; state: string; inventory?: string; routeLog?: RouteEntry[] }

export interface TitleRow {
  titleId: string;
  name: string;
  regions: string[];
  /** ContentManifest JSON */
  manifest: string;
}

export interface SealedKey { kid: string; titleId: string; label: string; sealed: Buffer }

export interface Account { accountId: string; name: string; plan: string; region: string; status: 'active' | 'suspended' }
export interface Profile { profileId: string; accountId: string; name: string }

export interface SessionRow {
  sessionId: string;
  accountId: string;
  profileId: string;
  titleId: string;
  device: string;
  clientIp: string;
  startedAt: number;
  lastHeartbeatAt: number;
  endedAt: number | null;
  positionMs: number;
  /** JSON: the steering answer and URL token this session's manifests are written from */
  delivery: string;
}

/** Smoothed demand for one file in one region: `views` (bytes streamed ÷ file size, decayed) as of `at`. */
export interface PopularityRow { region: string; fileId: string; views: number; at: number }

/** Predicted demand for a title without history (a premiere), set by an operator. */
export interface Promotion { titleId: string; regions: string[]; expectedViews: number; releaseAt: number }

/** An Ed25519 peer-token signing key (JWK members, base64url). */
export interface PeerKeyRow { kid: string; x: string; d: string; createdAt: number }

/** A site's fill overrides; null = the setting's default (rates) or not forced (fillNowUntil). */
export interface SiteFill { siteId: string; rateLimitBps: number | null; peerServeRateBps: number | null; fillNowUntil: number | null }

/** A live session as the operator's status page lists it: the row and the last heartbeat's figures. */
export interface LiveSessionRow extends SessionRow { bitrateKbps: number | null; bufferMs: number | null }

/** A session to start: its position is the profile's resume position for the title, which the store reads as it inserts. */
export type NewSession = Omit<SessionRow, 'positionMs'>;

/** started, from `positionMs`; or refused at the limit, with the live sessions' devices */
export type StartResult = { ok: true; positionMs: number } | { ok: false; devices: string[] };

export type EnrollResult =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'expired' | 'used' | 'wrong-site' };

/** A site's target image (routes/images.ts); null: no update wanted. */
export interface SiteImageTarget { version: string; manifestUrl: string; updatedAt: number }

/** What an appliance last said about its image: ImageStatus and TurnupReport JSON, and recent statuses. */
export interface ApplianceImageRow { applianceId: string; status: string | null; history: string | null; turnup: string | null }

/**
 * What other control instances wrote to a shared database (pg-repository.ts): rows whose in-memory
 * copies (fleet, catalogue) must follow. `version` goes to the next changesSince.
 */
export interface Changes {
  version: number;
  sites: Site[];
  titles: TitleRow[];
  /** inventory and routes are null unless they changed after `since` */
  appliances: ApplianceRow[];
  /** route-log entries appended after `since`, in order */
  routeLog: RouteLogRow[];
  /** fill overrides and "fill now" deadlines set after `since` */
  siteFill: SiteFill[];
  applianceFillNow: ApplianceFillNow[];
}

export interface ApplianceFillNow { applianceId: string; fillNowUntil: number | null }

export interface Repository {
  putSite(site: Site): Promise<void>;
  listSites(): Promise<Site[]>;
  getSite(siteId: string): Promise<Site | undefined>;

  addEnrollmentToken(tokenHash: string, siteId: string, expiresAt: number): Promise<void>;
  /** consume the token and create the appliance, atomically; a token works once */
  enroll(tokenHash: string, siteId: string | undefined, appliance: Omit<ApplianceRow, 'siteId' | 'operatorDrain' | 'snapshot' | 'inventory' | 'routes'> & { credentialHash: string }, now: number): Promise<EnrollResult & { siteId?: string }>;
  listAppliances(): Promise<ApplianceRow[]>;
  setOperatorDrain(applianceId: string, drain: boolean): Promise<boolean>;
  /** one transaction; absent parts are left as they are; route-log entries appended (a full one drops the appliance's earlier entries) */
  saveSnapshots(snapshots: ApplianceSnapshot[]): Promise<void>;
  /** every appliance's route log, in the order written (to rebuild the route table at start) */
  routeLog(): Promise<RouteLogRow[]>;

  putTitle(title: TitleRow, keys: SealedKey[], now: number): Promise<void>;
  getTitle(titleId: string): Promise<TitleRow | undefined>;
  listTitles(): Promise<TitleRow[]>;
  keysOfTitle(titleId: string): Promise<SealedKey[]>;

  addAccount(account: Account, tokenHash: string): Promise<void>;
  accountByToken(tokenHash: string): Promise<Account | undefined>;
  addProfile(profile: Profile): Promise<void>;
  getProfile(profileId: string): Promise<Profile | undefined>;
  /** the account's profiles, oldest first */
  listProfiles(accountId: string): Promise<Profile[]>;

  /**
   * count the account's live sessions and insert this one only if under `limit`, atomically, at
   * the profile's resume position for the title
   */
  startSession(s: NewSession, limit: number, liveSince: number): Promise<StartResult>;
  getSession(sessionId: string): Promise<SessionRow | undefined>;
  /** sessions not ended with a heartbeat at or after `liveSince`, newest first, at most `limit` */
  listLiveSessions(liveSince: number, limit: number): Promise<LiveSessionRow[]>;
  heartbeat(sessionId: string, at: number, positionMs: number, bitrateKbps: number, bufferMs: number): Promise<void>;
  endSession(sessionId: string, at: number): Promise<void>;
  resumePosition(profileId: string, titleId: string): Promise<number>;

  /**
   * Add views, merging with what is stored by exponential decay (half-life `halfLifeMs`): the
   * stored value is decayed to the later of the two times and the delta (decayed likewise) added.
   * Additive, so several control instances can each add what they saw.
   */
  addViews(deltas: PopularityRow[], halfLifeMs: number): Promise<void>;
  listPopularity(): Promise<PopularityRow[]>;
  putPromotion(p: Promotion, now: number): Promise<void>;
  deletePromotion(titleId: string): Promise<boolean>;
  listPromotions(): Promise<Promotion[]>;

  listPeerKeys(): Promise<PeerKeyRow[]>;
  /** insert unless a key with that kid exists; returns the stored keys afterwards */
  addPeerKey(k: PeerKeyRow): Promise<PeerKeyRow[]>;

  listSiteFill(): Promise<SiteFill[]>;
  putSiteFill(f: SiteFill): Promise<void>;
  /** per-appliance "fill now" deadlines (epoch ms) */
  listApplianceFillNow(): Promise<ApplianceFillNow[]>;
  setApplianceFillNow(applianceId: string, until: number | null): Promise<void>;

  setImageTarget(siteId: string, target: SiteImageTarget | null): Promise<void>;
  imageTarget(siteId: string): Promise<SiteImageTarget | null>;
  /** absent parts are left as they are */
  saveApplianceImage(row: ApplianceImageRow): Promise<void>;
  applianceImage(applianceId: string): Promise<ApplianceImageRow | undefined>;

  /** the change feed's position now: changesSince(it) misses nothing written afterwards */
  changeVersion(): Promise<number>;
  /** rows other instances wrote after `since` (an embedded store has no other writers: none) */
  changesSince(since: number): Promise<Changes>;
  /** call `onChange` whenever another instance may have written (and after a lost connection); returns a stop function */
  watchChanges(onChange: () => void): Promise<() => Promise<void>>;

  // ---- State hygiene: credential rotation and revocation, the URL-token key ring, pruning ----
  // (issue 13 item 4; SQLite in sqlite-repository.ts, the same block; a PostgreSQL store
  // implements them alike.)

  /**
   * Whose credential this is: an appliance's current one, the next one control offered it during
   * a rotation, or one an operator revoked (each hash is unique across all three). Reports
   * authenticate here.
   */
  authenticateCredential(credentialHash: string): Promise<CredentialMatch | undefined>;
  /** ask for a new credential for a (not revoked) appliance; false if there is none such */
  requestCredentialRotation(applianceId: string, at: number): Promise<boolean>;
  /** the next credential handed to the appliance in a report reply (replaces an earlier offer) */
  offerNextCredential(applianceId: string, nextHash: string): Promise<void>;
  /** the appliance used its next credential: it becomes the current one, the old one stops working */
  promoteNextCredential(applianceId: string): Promise<void>;
  /** refuse the appliance's credentials from now on (and drain it); false if unknown or already revoked */
  revokeCredential(applianceId: string, at: number): Promise<boolean>;

  /** URL-token signing keys, oldest activation first */
  listUrlTokenKeys(): Promise<UrlTokenKeyRow[]>;
  /** insert unless a key with that kid exists */
  addUrlTokenKey(k: UrlTokenKeyRow): Promise<void>;
  deleteUrlTokenKey(kid: string): Promise<void>;

  /** delete sessions that ended, or went silent without ending, before `before` (epoch ms); returns how many */
  pruneSessions(before: number): Promise<number>;
  /** delete enrollment tokens used or expired before `beforeSec` (unix seconds); returns how many */
  pruneEnrollmentTokens(beforeSec: number): Promise<number>;

  // ---- TLS certificates for the appliances' serving hostnames (issue 11; tls/tls-certificates.ts) ----
  // (SQLite and PostgreSQL in the block of the same name)

  /** insert, or replace the row with the same fingerprint */
  putTlsCertificate(row: TlsCertificateRow): Promise<void>;
  listTlsCertificates(): Promise<TlsCertificateRow[]>;
  /** false if there was none with that fingerprint */
  deleteTlsCertificate(fingerprint: string): Promise<boolean>;

  close(): Promise<void>;
}

/** An operator's certificate: PEM chain, key sealed under the KEK (AAD: its fingerprint), the hosts it names. */
export interface TlsCertificateRow {
  fingerprint: string;
  certPem: string;
  keySealed: Buffer;
  hosts: string[];
  notBefore: number;
  notAfter: number;
  uploadedAt: number;
}

export interface CredentialMatch {
  applianceId: string;
  state: 'current' | 'next' | 'revoked';
  /** an operator asked for a new credential that control has not seen in use yet */
  rotateRequested: boolean;
}

/** A URL-token signing key (HMAC secret) and when control starts signing with it (epoch ms). */
export interface UrlTokenKeyRow { kid: string; secret: string; createdAt: number; activeFrom: number }
