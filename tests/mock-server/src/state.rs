//! In-memory state of the mock API and the application logic of each method.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::answer::Answer;
use crate::{
    DEMO_API_KEY, DEMO_BUSINESS_NAME, DEMO_CLAIM_NUMBER, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_JOB_EXTERNAL_ID,
    DEMO_JOB_IMAGE_URL, DEMO_JOB_NUMBER,
};

/// Parses a fixed UUID at compile time (a bad literal fails the build, never a request).
const fn const_uuid(s: &str) -> Uuid {
    match Uuid::try_parse(s) {
        Ok(id) => id,
        Err(_) => panic!("invalid UUID constant"),
    }
}

pub(crate) const DEMO_INTEGRATION: Uuid = const_uuid(crate::DEMO_INTEGRATION_ID);
pub(crate) const DEMO_SITE: Uuid = const_uuid(crate::DEMO_SITE_ID);
pub(crate) const DEMO_JOB: Uuid = const_uuid(crate::DEMO_JOB_ID);
pub(crate) const DEMO_BUSINESS: Uuid = const_uuid(crate::DEMO_BUSINESS_ID);

/// Lifetime of a minted access code unless the caller asks otherwise.
pub(crate) const ACCESS_CODE_LIFETIME_SECS: u64 = 15 * 60;

/// Most identifiers `tier1.prepare` takes in one request.
const MAX_IDENTIFIERS: usize = 100;

// ---------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize)]
struct JobStatus {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Clone, Debug, Serialize)]
struct Job {
    id: Uuid,
    site_id: Uuid,
    status: JobStatus,
    images: Vec<String>,
    claim_number: Option<String>,
    job_number: Option<String>,
    external_id: Option<String>,
    work_provider_id: Option<Uuid>,
    vehicle: Option<Value>,
}

#[derive(Clone, Debug, Serialize)]
struct Business {
    id: Uuid,
    name: String,
}

#[derive(Serialize)]
struct BusinessesListResponse<'a> {
    items: &'a [Business],
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum JobIdentity {
    Id(Uuid),
    External(String),
}

#[derive(Deserialize)]
pub(crate) struct JobsGetRequest {
    identity: JobIdentity,
}

#[derive(Deserialize)]
pub(crate) struct ExternalInsert {
    repairer_site_id: Uuid,
    #[serde(default)]
    claim_number: Option<String>,
    #[serde(default)]
    job_number: Option<String>,
    #[serde(default)]
    vehicle: Option<Value>,
    #[serde(default)]
    work_provider_id: Option<Uuid>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum IfExists {
    Update,
    Replace,
}

#[derive(Deserialize)]
struct IfConflictOnInsert {
    exists: IfExists,
}

#[derive(Deserialize)]
pub(crate) struct JobsInsertRequest {
    data: ExternalInsert,
    identity: JobIdentity,
    #[serde(default)]
    if_: Option<IfConflictOnInsert>,
}

#[derive(Deserialize)]
pub(crate) struct Tier1PrepareRequest {
    identifiers: Vec<Value>,
}

#[derive(Deserialize)]
pub(crate) struct IntegrationsInsertRequest {
    access_code: String,
    client_id: String,
    client_secret: String,
}

#[derive(Serialize)]
struct IntegrationsInsertResponse<'a> {
    api_key: &'a str,
    integration_id: Uuid,
}

/// A request that takes no fields (`{}`; unknown fields are ignored).
#[derive(Deserialize)]
pub(crate) struct EmptyRequest {}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

pub(crate) struct State {
    jobs: HashMap<Uuid, Job>,
    by_external: HashMap<String, Uuid>,
    sites: HashSet<Uuid>,
    businesses: Vec<Business>,
    /// API key -> the integration it belongs to.
    keys: HashMap<String, Uuid>,
    /// Unused access codes -> when they expire (`None`: never).
    codes: HashMap<String, Option<Instant>>,
    /// Vehicle identifiers queued by `tier1.prepare`.
    prepared: u64,
    /// A 64-bit hash of each distinct identifier queued (its JSON text), to count repeats.
    prepared_distinct: HashSet<u64>,
}

impl State {
    /// The seeded demo state (also what `reset` restores).
    pub(crate) fn seeded() -> State {
        let job = Job {
            id: DEMO_JOB,
            site_id: DEMO_SITE,
            status: JobStatus { kind: "draft" },
            images: vec![DEMO_JOB_IMAGE_URL.to_owned()],
            claim_number: Some(DEMO_CLAIM_NUMBER.to_owned()),
            job_number: Some(DEMO_JOB_NUMBER.to_owned()),
            external_id: Some(DEMO_JOB_EXTERNAL_ID.to_owned()),
            work_provider_id: None,
            vehicle: Some(serde_json::json!({
                "make": "Toyota",
                "model": "Corolla",
                "year": 2019,
                "colour": "Silver",
                "chassis_number": "JTDBZ3FE20J012345",
                "plate": "MXK482",
                "region": "NZ"
            })),
        };
        let mut jobs = HashMap::new();
        jobs.insert(DEMO_JOB, job);
        let mut by_external = HashMap::new();
        by_external.insert(DEMO_JOB_EXTERNAL_ID.to_owned(), DEMO_JOB);
        let mut sites = HashSet::new();
        sites.insert(DEMO_SITE);
        let mut keys = HashMap::new();
        keys.insert(DEMO_API_KEY.to_owned(), DEMO_INTEGRATION);
        State {
            jobs,
            by_external,
            sites,
            businesses: vec![Business { id: DEMO_BUSINESS, name: DEMO_BUSINESS_NAME.to_owned() }],
            keys,
            codes: HashMap::new(),
            prepared: 0,
            prepared_distinct: HashSet::new(),
        }
    }

    pub(crate) fn prepared(&self) -> u64 {
        self.prepared
    }

    pub(crate) fn prepared_stats(&self) -> crate::PreparedStats {
        let distinct = self.prepared_distinct.len() as u64;
        crate::PreparedStats {
            identifiers: self.prepared,
            distinct,
            duplicates: self.prepared.saturating_sub(distinct),
        }
    }

    /// Mints a single-use access code; returns it.
    pub(crate) fn mint_code(&mut self, expires_in_secs: u64) -> String {
        let now = Instant::now();
        // Keep the table small when a test mints many codes and never uses them.
        if self.codes.len() >= 1024 {
            self.codes.retain(|_, exp| exp.is_none_or(|e| e > now));
        }
        let code = format!("ac_{}", Uuid::new_v4().simple());
        let expires = now.checked_add(Duration::from_secs(expires_in_secs));
        self.codes.insert(code.clone(), expires);
        code
    }

    /// Checks the `authorization` key against the integration id (already parsed).
    pub(crate) fn authorize(&self, key: Option<&str>, integration: Uuid) -> Result<(), Answer> {
        let Some(key) = key else {
            return Err(Answer::error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing `authorization: Bearer <api key>` header",
            ));
        };
        match self.keys.get(key) {
            None => Err(Answer::error(StatusCode::UNAUTHORIZED, "unauthorized", "invalid API key")),
            Some(owner) if *owner != integration => Err(Answer::error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the API key does not belong to the integration in `partly-integration-id`",
            )),
            Some(_) => Ok(()),
        }
    }

    pub(crate) fn integrations_insert(&mut self, req: IntegrationsInsertRequest) -> Answer {
        if req.client_id != DEMO_CLIENT_ID || req.client_secret != DEMO_CLIENT_SECRET {
            return Answer::error(StatusCode::UNAUTHORIZED, "unauthorized", "invalid client credentials");
        }
        match self.codes.remove(&req.access_code) {
            None => {
                return Answer::error(
                    StatusCode::BAD_REQUEST,
                    "invalid_access_code",
                    "the access code is unknown or has already been used",
                )
            }
            Some(Some(expires)) if Instant::now() >= expires => {
                return Answer::error(StatusCode::BAD_REQUEST, "invalid_access_code", "the access code has expired")
            }
            Some(_) => {}
        }
        let api_key = format!("pk_live_{}", Uuid::new_v4().simple());
        let integration_id = Uuid::new_v4();
        let answer = Answer::json(&IntegrationsInsertResponse { api_key: &api_key, integration_id });
        self.keys.insert(api_key, integration_id);
        answer
    }

    fn find(&self, identity: &JobIdentity) -> Option<Uuid> {
        match identity {
            JobIdentity::Id(id) => self.jobs.contains_key(id).then_some(*id),
            JobIdentity::External(ext) => self.by_external.get(ext).copied(),
        }
    }

    pub(crate) fn jobs_get(&self, req: JobsGetRequest) -> Answer {
        match self.find(&req.identity).and_then(|id| self.jobs.get(&id)) {
            Some(job) => Answer::json(job),
            None => Answer::error(
                StatusCode::NOT_FOUND,
                "not_found",
                &match &req.identity {
                    JobIdentity::Id(id) => format!("no job with id {id}"),
                    JobIdentity::External(ext) => format!("no job with external id {ext:?}"),
                },
            ),
        }
    }

    pub(crate) fn jobs_insert(&mut self, req: JobsInsertRequest) -> Answer {
        let data = req.data;
        if !self.sites.contains(&data.repairer_site_id) {
            return Answer::error(
                StatusCode::NOT_FOUND,
                "site_not_found",
                &format!("no repairer site with id {}", data.repairer_site_id),
            );
        }
        let mode = req.if_.map_or(IfExists::Update, |c| c.exists);
        if let Some(job) = self.find(&req.identity).and_then(|id| self.jobs.get_mut(&id)) {
            job.site_id = data.repairer_site_id;
            match mode {
                IfExists::Update => {
                    if data.claim_number.is_some() {
                        job.claim_number = data.claim_number;
                    }
                    if data.job_number.is_some() {
                        job.job_number = data.job_number;
                    }
                    if data.vehicle.is_some() {
                        job.vehicle = data.vehicle;
                    }
                    if data.work_provider_id.is_some() {
                        job.work_provider_id = data.work_provider_id;
                    }
                }
                IfExists::Replace => {
                    job.claim_number = data.claim_number;
                    job.job_number = data.job_number;
                    job.vehicle = data.vehicle;
                    job.work_provider_id = data.work_provider_id;
                }
            }
            return Answer::json(job);
        }
        let (id, external_id) = match req.identity {
            JobIdentity::Id(id) => (id, None),
            JobIdentity::External(ext) => (Uuid::new_v4(), Some(ext)),
        };
        let job = Job {
            id,
            site_id: data.repairer_site_id,
            status: JobStatus { kind: "draft" },
            images: Vec::new(),
            claim_number: data.claim_number,
            job_number: data.job_number,
            external_id,
            work_provider_id: data.work_provider_id,
            vehicle: data.vehicle,
        };
        let answer = Answer::json(&job);
        if let Some(ext) = &job.external_id {
            self.by_external.insert(ext.clone(), id);
        }
        self.jobs.insert(id, job);
        answer
    }

    pub(crate) fn tier1_prepare(&mut self, req: Tier1PrepareRequest) -> Answer {
        let n = req.identifiers.len();
        if n == 0 || n > MAX_IDENTIFIERS {
            return Answer::error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                &format!("`identifiers` must hold 1 to {MAX_IDENTIFIERS} identifiers, got {n}"),
            );
        }
        for (i, identifier) in req.identifiers.iter().enumerate() {
            if let Err(why) = check_identifier(identifier) {
                return Answer::error(
                    StatusCode::BAD_REQUEST,
                    "invalid_identifier",
                    &format!("identifiers[{i}]: {why}"),
                );
            }
        }
        self.prepared = self.prepared.saturating_add(n as u64);
        for identifier in &req.identifiers {
            use std::hash::{Hash, Hasher};
            // Fixed keys: the same identifier hashes alike on every request.
            let mut h = std::hash::DefaultHasher::new();
            identifier.to_string().hash(&mut h);
            self.prepared_distinct.insert(h.finish());
        }
        Answer::json_static(b"{}")
    }

    pub(crate) fn businesses_list(&self) -> Answer {
        Answer::json(&BusinessesListResponse { items: &self.businesses })
    }
}

/// A vehicle identifier is `{"chassis_number": "<non-empty>"}` or
/// `{"plate": "<non-empty>", "region": "<string>"?}`.
fn check_identifier(v: &Value) -> Result<(), &'static str> {
    let Some(obj) = v.as_object() else {
        return Err("an identifier must be an object");
    };
    if let Some(chassis) = obj.get("chassis_number") {
        return match chassis.as_str() {
            Some(s) if !s.is_empty() => Ok(()),
            Some(_) => Err("`chassis_number` must not be empty"),
            None => Err("`chassis_number` must be a string"),
        };
    }
    if let Some(plate) = obj.get("plate") {
        match plate.as_str() {
            Some(s) if !s.is_empty() => {}
            Some(_) => return Err("`plate` must not be empty"),
            None => return Err("`plate` must be a string"),
        }
        return match obj.get("region") {
            None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
            Some(_) => Err("`region` must be a string"),
        };
    }
    Err("expected `{\"chassis_number\": ...}` or `{\"plate\": ..., \"region\": ...}`")
}
