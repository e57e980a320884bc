//! [`R2`]: the Worker's R2 binding as a [`Store`] (wasm32 with the `worker`
//! feature only).
//!
//! Each method is one R2 operation through `worker::Bucket`. A missing
//! binding is not a panic: every call then fails with a store error, so the
//! request answers 503 as when R2 is down. Create-only puts use R2's
//! `onlyIf: { etagDoesNotMatch: "*" }`; compare-and-swap uses `etagMatches`.
//! Small puts, completions and deletes that R2 refuses as too soon after
//! another write of their key are made again a second later
//! ([`store::retry_too_soon`]).

use worker::{Bucket, Conditional, Data, UploadedPart};

use super::{self as store, failed, Listing, Meta, Part, PutMode, Range, Start, Store, LIST_LIMIT};
use crate::error::Result;

/// The bucket, or why there is none.
#[derive(Debug)]
pub struct R2 {
    bucket: std::result::Result<Bucket, String>,
}

impl R2 {
    /// The bucket bound as `binding`, or a store whose calls fail with
    /// `missing` when there is no such binding.
    pub fn new(bucket: std::result::Result<Bucket, String>) -> Self {
        R2 { bucket }
    }

    fn bucket(&self, op: &'static str, key: &str) -> Result<&Bucket> {
        self.bucket.as_ref().map_err(|e| failed(op, key, e))
    }
}

/// The largest put that [`store::retry_too_soon`] makes again (see
/// [`R2::put`]).
const RETRIED_PUT_BYTES: usize = 64 << 10;

async fn put_once(
    bucket: &Bucket,
    key: &str,
    data: Vec<u8>,
    mode: &PutMode,
) -> Result<Option<Meta>> {
    let mut q = bucket.put(key, Data::Bytes(data));
    match mode {
        PutMode::Overwrite => {}
        PutMode::Create => {
            q = q.only_if(Conditional {
                etag_does_not_match: Some("*".into()),
                ..Default::default()
            })
        }
        PutMode::IfMatch(etag) => {
            q = q.only_if(Conditional {
                etag_matches: Some(etag.clone()),
                ..Default::default()
            })
        }
    }
    let object = q.execute().await.map_err(|e| failed("put", key, e))?;
    Ok(object.as_ref().map(meta))
}

fn meta(o: &worker::Object) -> Meta {
    Meta {
        key: o.key(),
        size: o.size(),
        etag: o.etag(),
    }
}

/// JavaScript numbers hold integers exactly up to 2^53; larger offsets would
/// make workers-rs panic, so they are clamped (no object is that large).
fn js_int(v: u64) -> u64 {
    v.min((1 << 53) - 1)
}

impl Store for R2 {
    async fn list(&self, prefix: &str, start: Start<'_>) -> Result<Listing> {
        let q = self
            .bucket("list", prefix)?
            .list()
            .prefix(prefix)
            .limit(LIST_LIMIT as u32);
        let q = match start {
            Start::First => q,
            Start::After(key) => q.start_after(key),
            Start::Cursor(c) => q.cursor(c),
        };
        let page = q.execute().await.map_err(|e| failed("list", prefix, e))?;
        Ok(Listing {
            objects: page.objects().iter().map(meta).collect(),
            cursor: if page.truncated() {
                page.cursor()
            } else {
                None
            },
        })
    }

    async fn get(&self, key: &str, range: Option<Range>) -> Result<Option<Vec<u8>>> {
        let mut q = self.bucket("get", key)?.get(key);
        if let Some(r) = range {
            q = q.range(match r {
                Range::Slice { offset, length } => worker::Range::OffsetWithLength {
                    offset: js_int(offset),
                    length: js_int(length),
                },
                Range::Suffix { length } => worker::Range::Suffix {
                    suffix: js_int(length),
                },
            });
        }
        let Some(object) = q.execute().await.map_err(|e| failed("get", key, e))? else {
            return Ok(None);
        };
        let body = object
            .body()
            .ok_or_else(|| failed("get", key, "the object came without a body"))?;
        body.bytes()
            .await
            .map(Some)
            .map_err(|e| failed("get", key, e))
    }

    async fn head(&self, key: &str) -> Result<Option<Meta>> {
        let object = self.bucket("head", key)?.head(key).await;
        Ok(object
            .map_err(|e| failed("head", key, e))?
            .as_ref()
            .map(meta))
    }

    async fn put(&self, key: &str, data: Vec<u8>, mode: PutMode) -> Result<Option<Meta>> {
        let bucket = self.bucket("put", key)?;
        // R2 refuses a second write of a key within a second (10058): made
        // again after a pause, from a copy, where the copy is cheap: the
        // lease and intent objects and small files. A larger put fails as
        // it is (a request is then answered 503, and its exporter retries).
        if data.len() > RETRIED_PUT_BYTES {
            return put_once(bucket, key, data, &mode).await;
        }
        store::retry_too_soon(
            || put_once(bucket, key, data.clone(), &mode),
            worker::Delay::from,
        )
        .await
    }

    async fn create_multipart(&self, key: &str) -> Result<String> {
        let op = "create_multipart";
        let upload = self.bucket(op, key)?.create_multipart_upload(key).execute();
        Ok(upload
            .await
            .map_err(|e| failed(op, key, e))?
            .upload_id()
            .await)
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        data: Vec<u8>,
    ) -> Result<Part> {
        let op = "upload_part";
        let upload = self
            .bucket(op, key)?
            .resume_multipart_upload(key, upload_id);
        let upload = upload.map_err(|e| failed(op, key, e))?;
        let part = upload.upload_part(number, Data::Bytes(data)).await;
        let part = part.map_err(|e| failed(op, key, e))?;
        Ok(Part {
            number: part.part_number(),
            etag: part.etag(),
        })
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<Part>,
    ) -> Result<Meta> {
        let op = "complete_multipart";
        let bucket = self.bucket(op, key)?;
        let complete = || async {
            let upload = bucket.resume_multipart_upload(key, upload_id);
            let upload = upload.map_err(|e| failed(op, key, e))?;
            let parts = parts
                .iter()
                .map(|p| UploadedPart::new(p.number, p.etag.clone()));
            let object = upload.complete(parts).await;
            Ok(meta(&object.map_err(|e| failed(op, key, e))?))
        };
        store::retry_too_soon(complete, worker::Delay::from).await
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        let op = "abort_multipart";
        let upload = self
            .bucket(op, key)?
            .resume_multipart_upload(key, upload_id);
        let upload = upload.map_err(|e| failed(op, key, e))?;
        upload.abort().await.map_err(|e| failed(op, key, e))
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        let first = keys.first().map_or("", String::as_str);
        let bucket = self.bucket("delete", first)?;
        // R2 deletes at most 1000 keys per call.
        for chunk in keys.chunks(LIST_LIMIT) {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            let key = chunk[0].as_str();
            let delete = || async {
                let done = bucket.delete_multiple(refs.clone()).await;
                done.map_err(|e| failed("delete", key, e))
            };
            store::retry_too_soon(delete, worker::Delay::from).await?;
        }
        Ok(())
    }
}
