//! The API's data types (partly-api.md §3), lossless: every response model keeps the fields it
//! does not know in `extra`, and serialising it again gives them back. `null` and a missing key
//! both read as "no value".

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::config::defaults;
use crate::error::Error;
use crate::secret::Secret;

/// The request of `integrations.insert`: finish an OAuth install.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct InstallRequest {
    /// The access code from the OAuth redirect: single use, valid for 15 minutes. A secret.
    pub access_code: Secret,
    /// The integration's client id, issued by Partly.
    pub client_id: String,
    /// The client secret issued with the client id.
    pub client_secret: Secret,
}

impl InstallRequest {
    /// A request from the three values.
    pub fn new(access_code: impl Into<String>, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        InstallRequest {
            access_code: Secret::new(access_code.into()),
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret.into()),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        require_text(self.access_code.expose(), "access_code", "the `code` query parameter of the OAuth redirect")?;
        require_text(&self.client_id, "client_id", "the client id Partly issued for the integration")?;
        require_text(self.client_secret.expose(), "client_secret", "the client secret Partly issued with the client id")
    }
}

/// The answer of `integrations.insert`. Store both values: the client sends them on every
/// call. `Debug` hides the key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InstallResponse {
    /// The integration's long-lived API key. A secret.
    pub api_key: Secret,
    /// The integration id, sent as `partly-integration-id`.
    pub integration_id: Uuid,
    /// Fields this SDK version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which job: Partly's id, or the integrator's own reference. Externally tagged on the wire:
/// `{"id": "<uuid>"}` or `{"external": "<string>"}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum JobIdentity {
    /// Partly's id of the job.
    Id(Uuid),
    /// The integrator's own reference, e.g. `CCC-2026-04817`.
    External(String),
}

impl JobIdentity {
    /// Identity by Partly's id, parsed from text.
    pub fn id(id: &str) -> Result<Self, Error> {
        Uuid::parse_str(id.trim()).map(JobIdentity::Id).map_err(|_| {
            Error::validation(format!(
                "job id {id:?} is not a UUID; to look a job up by your own reference, use an external identity instead"
            ))
        })
    }

    /// Identity by the integrator's own reference.
    pub fn external(reference: impl Into<String>) -> Self {
        JobIdentity::External(reference.into())
    }

    /// The identity from exactly one of `id` and `external` (how the Python and Node packages
    /// take it as keyword arguments).
    pub fn from_parts(id: Option<&str>, external: Option<&str>) -> Result<Self, Error> {
        match (id, external) {
            (Some(id), None) => JobIdentity::id(id),
            (None, Some(ext)) => {
                let identity = JobIdentity::external(ext);
                identity.validate()?;
                Ok(identity)
            }
            (Some(_), Some(_)) => {
                Err(Error::validation("give either id (Partly's job id) or external (your own reference), not both"))
            }
            (None, None) => Err(Error::validation(
                "say which job: give id (Partly's job id) or external (your own reference, e.g. \"CCC-2026-04817\")",
            )),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        match self {
            JobIdentity::Id(_) => Ok(()),
            JobIdentity::External(r) => {
                require_text(r, "external", "your own reference for the job, e.g. \"CCC-2026-04817\"")
            }
        }
    }
}

/// The status of a job: an object tagged by `type`. `draft` is the one the reference names;
/// other values exist and more may come, so the type is kept as text and nothing fails on an
/// unknown one.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JobStatus {
    /// The status type, e.g. `draft`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Any other fields of the status.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl JobStatus {
    /// The `type` of a draft job.
    pub const DRAFT: &'static str = "draft";

    /// Whether the job is a draft.
    pub fn is_draft(&self) -> bool {
        self.kind == Self::DRAFT
    }
}

/// A repair job (the answer of `jobs.get` and `jobs.insert`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Job {
    /// Partly's id of the job.
    pub id: Uuid,
    /// The repairer site the job belongs to.
    pub site_id: Uuid,
    /// The job's status.
    pub status: JobStatus,
    /// Image URLs.
    pub images: Vec<String>,
    /// The insurer's claim number.
    pub claim_number: Option<String>,
    /// The repairer's job number.
    pub job_number: Option<String>,
    /// The integrator's own reference.
    pub external_id: Option<String>,
    /// The work provider (insurer).
    pub work_provider_id: Option<Uuid>,
    /// The vehicle, as the server sent it (its shape is not published).
    pub vehicle: Option<Value>,
    /// Fields this SDK version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Reads a job in one pass, keeping unknown fields in `extra` (what `#[serde(flatten)]` does,
/// without buffering every field first: decoding is on every call's path).
impl<'de> Deserialize<'de> for Job {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error as _, MapAccess, Visitor};
        struct JobVisitor;
        impl<'de> Visitor<'de> for JobVisitor {
            type Value = Job;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a job object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Job, A::Error> {
                let (mut id, mut site_id, mut status) = (None, None, None);
                let mut job = Job {
                    id: Uuid::nil(),
                    site_id: Uuid::nil(),
                    status: JobStatus { kind: String::new(), extra: Map::new() },
                    images: Vec::new(),
                    claim_number: None,
                    job_number: None,
                    external_id: None,
                    work_provider_id: None,
                    vehicle: None,
                    extra: Map::new(),
                };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "id" => id = Some(map.next_value::<Uuid>()?),
                        "site_id" => site_id = Some(map.next_value::<Uuid>()?),
                        "status" => status = Some(map.next_value::<JobStatus>()?),
                        "images" => job.images = map.next_value::<Option<Vec<String>>>()?.unwrap_or_default(),
                        "claim_number" => job.claim_number = map.next_value()?,
                        "job_number" => job.job_number = map.next_value()?,
                        "external_id" => job.external_id = map.next_value()?,
                        "work_provider_id" => job.work_provider_id = map.next_value()?,
                        "vehicle" => job.vehicle = map.next_value::<Option<Value>>()?.filter(|v| !v.is_null()),
                        _ => {
                            let v: Value = map.next_value()?;
                            job.extra.insert(key.into_owned(), v);
                        }
                    }
                }
                job.id = id.ok_or_else(|| A::Error::missing_field("id"))?;
                job.site_id = site_id.ok_or_else(|| A::Error::missing_field("site_id"))?;
                job.status = status.ok_or_else(|| A::Error::missing_field("status"))?;
                Ok(job)
            }
        }
        d.deserialize_map(JobVisitor)
    }
}

/// The data of a `jobs.insert` (`ExternalInsert` on the wire). `None` fields are not sent.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct JobData {
    /// The repairer site the job belongs to. Required.
    pub repairer_site_id: Option<Uuid>,
    /// The insurer's claim number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_number: Option<String>,
    /// The repairer's job number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_number: Option<String>,
    /// The vehicle, passed through as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<Value>,
    /// The work provider (insurer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_provider_id: Option<Uuid>,
    /// More fields to send as they are (for fields newer than this SDK).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl JobData {
    /// Data for a job at the given repairer site.
    pub fn new(repairer_site_id: Uuid) -> Self {
        JobData { repairer_site_id: Some(repairer_site_id), ..Default::default() }
    }

    /// Reads job data from JSON (an object with the fields of `ExternalInsert`; unknown fields
    /// are sent as they are).
    pub fn from_json(value: Value) -> Result<Self, Error> {
        if !value.is_object() {
            return Err(Error::validation(format!("job data must be an object, got {}", json_type_name(&value))));
        }
        let data: JobData = serde_json::from_value(value).map_err(|e| Error::validation(format!("job data: {e}")))?;
        data.validate()?;
        Ok(data)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.repairer_site_id.is_none() {
            return Err(Error::validation(
                "repairer_site_id is required: give the id of the repairer site the job belongs to",
            ));
        }
        if let Some(v) = &self.vehicle {
            if !v.is_object() {
                return Err(Error::validation("vehicle must be a JSON object (or absent)"));
            }
        }
        Ok(())
    }
}

/// What `jobs.insert` does when a job with the identity already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IfExists {
    /// Merge the fields given into the existing job. The default: it never erases data.
    /// \[decision\]
    #[default]
    Update,
    /// Overwrite the existing job with the data given.
    Replace,
}

impl IfExists {
    /// The wire word (`update` / `replace`).
    pub fn as_str(self) -> &'static str {
        match self {
            IfExists::Update => "update",
            IfExists::Replace => "replace",
        }
    }

    /// Parses the wire word.
    pub fn parse(word: &str) -> Result<Self, Error> {
        match word {
            "update" => Ok(IfExists::Update),
            "replace" => Ok(IfExists::Replace),
            other => Err(Error::validation(format!(
                "if_exists {other:?} is not one of \"update\" (merge the fields given) or \"replace\" (overwrite the job)"
            ))),
        }
    }
}

#[derive(Serialize)]
struct IfConflictOnInsert {
    exists: IfExists,
}

/// The request of `jobs.insert`.
#[derive(Clone, Debug, PartialEq)]
pub struct JobInsert {
    /// Which job to create or update.
    pub identity: JobIdentity,
    /// Its data.
    pub data: JobData,
    /// What to do when it already exists.
    pub if_exists: IfExists,
}

impl JobInsert {
    /// An upsert that merges into an existing job ([`IfExists::Update`]).
    pub fn new(identity: JobIdentity, data: JobData) -> Self {
        JobInsert { identity, data, if_exists: IfExists::default() }
    }

    /// Sets what happens when the job exists.
    pub fn if_exists(mut self, if_exists: IfExists) -> Self {
        self.if_exists = if_exists;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        self.identity.validate()?;
        self.data.validate()
    }

    /// The request body on the wire: `{data, identity, if_: {exists}}`.
    pub(crate) fn wire(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Wire<'a> {
            data: &'a JobData,
            identity: &'a JobIdentity,
            if_: IfConflictOnInsert,
        }
        Wire { data: &self.data, identity: &self.identity, if_: IfConflictOnInsert { exists: self.if_exists } }
    }
}

/// The field names of the plate form of a vehicle identifier. Not published: \[decision\], kept
/// here so a correction is one line.
pub mod plate_fields {
    /// The registration plate (VRM).
    pub const PLATE: &str = "plate";
    /// The region that issued the plate.
    pub const REGION: &str = "region";
}

/// The chassis-number field of a vehicle identifier.
pub const CHASSIS_FIELD: &str = "chassis_number";

/// A vehicle to prepare: a chassis number (VIN or older/imported chassis number), a
/// registration plate (recommended by Partly: it resolves trims and colours better), or any
/// JSON object the caller knows the API accepts.
#[derive(Clone, Debug, PartialEq)]
pub enum VehicleIdentifier {
    /// `{"chassis_number": "..."}`.
    ChassisNumber(String),
    /// `{"plate": "...", "region": "..."}`.
    Plate {
        /// The plate.
        plate: String,
        /// The region that issued it, when needed to resolve it.
        region: Option<String>,
    },
    /// Any other JSON object, sent as it is.
    Raw(Map<String, Value>),
}

impl VehicleIdentifier {
    /// A chassis number (VIN). Whitespace around it is removed; its length and alphabet are
    /// not checked (older vehicles have short chassis numbers).
    pub fn chassis_number(vin: impl Into<String>) -> Self {
        VehicleIdentifier::ChassisNumber(vin.into().trim().to_string())
    }

    /// A registration plate, with the region when it is needed.
    pub fn plate(plate: impl Into<String>, region: Option<String>) -> Self {
        VehicleIdentifier::Plate {
            plate: plate.into().trim().to_string(),
            region: region.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()),
        }
    }

    /// Reads an identifier from JSON: a string is a chassis number; an object with only
    /// `chassis_number`, or `plate` and an optional `region`, is that form; any other
    /// non-empty object is sent as it is.
    pub fn from_json(value: Value) -> Result<Self, Error> {
        match value {
            Value::String(s) => Ok(Self::chassis_number(s)),
            Value::Object(map) => {
                let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                match keys.as_slice() {
                    [k] if *k == CHASSIS_FIELD => match map.get(CHASSIS_FIELD) {
                        Some(Value::String(s)) => Ok(Self::chassis_number(s.clone())),
                        _ => Err(Error::validation("chassis_number must be a string")),
                    },
                    _ if map.contains_key(plate_fields::PLATE)
                        && keys.iter().all(|k| *k == plate_fields::PLATE || *k == plate_fields::REGION) =>
                    {
                        let plate = match map.get(plate_fields::PLATE) {
                            Some(Value::String(s)) => s.clone(),
                            _ => return Err(Error::validation("plate must be a string")),
                        };
                        let region = match map.get(plate_fields::REGION) {
                            None | Some(Value::Null) => None,
                            Some(Value::String(s)) => Some(s.clone()),
                            Some(_) => return Err(Error::validation("region must be a string")),
                        };
                        Ok(Self::plate(plate, region))
                    }
                    _ => Ok(VehicleIdentifier::Raw(map)),
                }
            }
            other => Err(Error::validation(format!(
                "a vehicle identifier is a chassis number (string) or an object such as {{\"plate\": \"ABC123\"}}; got {}",
                json_type_name(&other)
            ))),
        }
    }

    /// Reads a JSON array of identifiers (strings are chassis numbers), naming the index of a
    /// bad one (`identifiers[3]: ...`). Emptiness and the 100 limit are checked by the method.
    pub fn list_from_json(value: Value) -> Result<Vec<Self>, Error> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| Self::from_json(item).map_err(|e| e.map_message(|m| format!("identifiers[{i}]: {m}"))))
                .collect(),
            Value::Null => Err(Error::validation(
                "identifiers is missing: give a list (array) of chassis numbers (strings) or identifier objects such as {\"plate\": \"ABC123\"}",
            )),
            other => Err(Error::validation(format!(
                "identifiers must be a list (array) of chassis numbers (strings) or identifier objects such as {{\"plate\": \"ABC123\"}}, got {}",
                json_type_name(&other)
            ))),
        }
    }

    /// The wire JSON.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        match self {
            VehicleIdentifier::ChassisNumber(v) => {
                m.insert(CHASSIS_FIELD.into(), Value::String(v.clone()));
            }
            VehicleIdentifier::Plate { plate, region } => {
                m.insert(plate_fields::PLATE.into(), Value::String(plate.clone()));
                if let Some(r) = region {
                    m.insert(plate_fields::REGION.into(), Value::String(r.clone()));
                }
            }
            VehicleIdentifier::Raw(map) => return Value::Object(map.clone()),
        }
        Value::Object(m)
    }

    /// Checks the identifier: no empty chassis number or plate, no empty object.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            VehicleIdentifier::ChassisNumber(v) if v.trim().is_empty() => {
                Err(Error::validation("chassis_number is empty; give the vehicle's VIN or chassis number"))
            }
            VehicleIdentifier::Plate { plate, .. } if plate.trim().is_empty() => {
                Err(Error::validation("plate is empty; give the vehicle's registration plate"))
            }
            VehicleIdentifier::Raw(map) if map.is_empty() => Err(Error::validation(
                "a vehicle identifier object is empty; give {\"chassis_number\": ...} or {\"plate\": ...}",
            )),
            _ => Ok(()),
        }
    }
}

impl Serialize for VehicleIdentifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            VehicleIdentifier::ChassisNumber(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(CHASSIS_FIELD, v)?;
                m.end()
            }
            VehicleIdentifier::Plate { plate, region } => {
                let mut m = s.serialize_map(Some(1 + usize::from(region.is_some())))?;
                m.serialize_entry(plate_fields::PLATE, plate)?;
                if let Some(r) = region {
                    m.serialize_entry(plate_fields::REGION, r)?;
                }
                m.end()
            }
            VehicleIdentifier::Raw(map) => map.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for VehicleIdentifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        VehicleIdentifier::from_json(v).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

impl From<&str> for VehicleIdentifier {
    fn from(vin: &str) -> Self {
        VehicleIdentifier::chassis_number(vin)
    }
}

impl From<String> for VehicleIdentifier {
    fn from(vin: String) -> Self {
        VehicleIdentifier::chassis_number(vin)
    }
}

/// Checks the identifiers of one `tier1.prepare` request: 1 to 100, none empty.
pub(crate) fn validate_prepare_batch(identifiers: &[VehicleIdentifier]) -> Result<(), Error> {
    let max = defaults::PREPARE_BATCH_MAX;
    if identifiers.is_empty() || identifiers.len() > max {
        return Err(Error::validation(format!(
            "takes 1 to {max} identifiers per request; got {}. Use prepare_all for any number",
            identifiers.len()
        )));
    }
    validate_identifiers(identifiers)
}

/// Checks every identifier, naming the first bad one by index.
pub(crate) fn validate_identifiers(identifiers: &[VehicleIdentifier]) -> Result<(), Error> {
    for (i, id) in identifiers.iter().enumerate() {
        id.validate().map_err(|e| e.map_message(|m| format!("identifiers[{i}]: {m}")))?;
    }
    Ok(())
}

/// The answer of `tier1.prepare` (`{}` today; anything the server adds is kept).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PrepareResponse {
    /// Fields this SDK version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn require_text(value: &str, name: &str, hint: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        Err(Error::validation(format!("{name} is empty; give {hint}")))
    } else {
        Ok(())
    }
}

/// What kind of JSON value `v` is, for messages ("got a string"): the one wording every
/// validation message of the SDK and the command line uses.
pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn job_keeps_unknown_fields_and_status() {
        let raw = json!({
            "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
            "site_id": "497f6eca-6276-4993-bfeb-53cbbbba6f09",
            "status": {"type": "awaiting_parts", "since": "2026-01-01"},
            "images": [], "claim_number": null, "future_field": {"a": 1}
        });
        let job: Job = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(job.status.kind, "awaiting_parts");
        assert!(!job.status.is_draft());
        assert_eq!(job.claim_number, None);
        assert_eq!(job.job_number, None);
        let back = serde_json::to_value(&job).unwrap();
        assert_eq!(back["future_field"], json!({"a": 1}));
        assert_eq!(back["status"]["since"], "2026-01-01");
    }

    #[test]
    fn job_missing_required_field_fails() {
        let e = serde_json::from_value::<Job>(
            json!({"id": "497f6eca-6276-4993-bfeb-53cbbbba6f08", "status": {"type":"draft"}}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("site_id"), "{e}");
    }

    #[test]
    fn insert_wire_shape() {
        let site = Uuid::nil();
        let mut data = JobData::new(site);
        data.claim_number = Some("C1".into());
        let insert = JobInsert::new(JobIdentity::external("E1"), data).if_exists(IfExists::Replace);
        let w = serde_json::to_value(insert.wire()).unwrap();
        assert_eq!(
            w,
            json!({"data": {"repairer_site_id": site, "claim_number": "C1"}, "identity": {"external": "E1"}, "if_": {"exists": "replace"}})
        );
    }

    #[test]
    fn identifiers_from_json() {
        assert_eq!(
            VehicleIdentifier::from_json(json!(" JH4 ")).unwrap(),
            VehicleIdentifier::ChassisNumber("JH4".into())
        );
        assert_eq!(
            VehicleIdentifier::from_json(json!({"plate": "ABC1", "region": "NZ"})).unwrap().to_json(),
            json!({"plate": "ABC1", "region": "NZ"})
        );
        let raw = json!({"vrm": "X", "country": "GB"});
        assert_eq!(VehicleIdentifier::from_json(raw.clone()).unwrap().to_json(), raw);
        assert!(VehicleIdentifier::from_json(json!(5)).is_err());
        let e = VehicleIdentifier::list_from_json(json!(["A", {"plate": 1}])).unwrap_err();
        assert!(e.message().starts_with("identifiers[1]: plate"), "{e}");
        assert_eq!(VehicleIdentifier::list_from_json(json!(["A"])).unwrap().len(), 1);
        assert!(VehicleIdentifier::list_from_json(json!("A")).is_err());
        assert!(VehicleIdentifier::chassis_number("  ").validate().is_err());
        assert!(VehicleIdentifier::chassis_number("A1").validate().is_ok());
    }

    #[test]
    fn prepare_batch_limits() {
        assert!(validate_prepare_batch(&[]).is_err());
        let many: Vec<_> = (0..101).map(|i| VehicleIdentifier::chassis_number(format!("V{i}"))).collect();
        let e = validate_prepare_batch(&many).unwrap_err();
        assert!(e.message().contains("got 101"), "{e}");
        assert!(validate_prepare_batch(&many[..100]).is_ok());
        let mut bad = many[..3].to_vec();
        bad[1] = VehicleIdentifier::chassis_number("");
        assert!(validate_prepare_batch(&bad).unwrap_err().message().starts_with("identifiers[1]"));
    }
}
