//! [`Memory`]: an object store held in a map, for tests and benches.
//!
//! It follows R2's rules where a caller could get them wrong: conditional
//! puts, listing pages of at most [`super::LIST_LIMIT`] keys in key order,
//! and multipart parts (all but the last of one size, at least
//! [`MIN_PART_BYTES`] unless [`Memory::with_min_part_bytes`] lowers it;
//! the last no larger than the others).
//! It never fails by itself: wrap it in [`super::fault::Faulty`] to make
//! chosen calls fail.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::{content_etag, failed, Listing, Meta, Part, PutMode, Range, Start, Store};
use crate::error::Result;

/// R2's smallest part of a multipart upload (all but the last): 5 MiB.
pub const MIN_PART_BYTES: usize = 5 << 20;

/// An in-memory bucket.
#[derive(Debug)]
pub struct Memory {
    state: Mutex<State>,
    min_part_bytes: usize,
}

#[derive(Debug, Default)]
struct State {
    objects: BTreeMap<String, Stored>,
    uploads: HashMap<String, Upload>,
    next_upload: u64,
}

#[derive(Debug)]
struct Stored {
    data: Vec<u8>,
    etag: String,
}

#[derive(Debug)]
struct Upload {
    key: String,
    parts: BTreeMap<u16, (Vec<u8>, String)>,
}

impl Default for Memory {
    fn default() -> Self {
        Memory::new()
    }
}

impl Memory {
    /// An empty bucket with R2's part-size rule.
    pub fn new() -> Self {
        Memory {
            state: Mutex::new(State::default()),
            min_part_bytes: MIN_PART_BYTES,
        }
    }

    /// The same bucket with a smaller minimum part size, so tests can make
    /// multipart uploads of a few bytes.
    pub fn with_min_part_bytes(mut self, bytes: usize) -> Self {
        self.min_part_bytes = bytes;
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in another test thread must not hide this store's contents.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every object, key → bytes (a copy), for assertions.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let s = self.state();
        s.objects
            .iter()
            .map(|(k, o)| (k.clone(), o.data.clone()))
            .collect()
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.state().objects.keys().cloned().collect()
    }

    /// Upload ids of the multipart uploads neither completed nor aborted.
    pub fn open_uploads(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.state().uploads.keys().cloned().collect();
        ids.sort();
        ids
    }
}

fn meta(key: &str, o: &Stored) -> Meta {
    Meta {
        key: key.to_string(),
        size: o.data.len() as u64,
        etag: o.etag.clone(),
    }
}

impl Store for Memory {
    async fn list(&self, prefix: &str, start: Start<'_>) -> Result<Listing> {
        let s = self.state();
        let keys = s
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, o)| (k, o.data.len() as u64, o.etag.as_str()));
        Ok(super::page(keys, start))
    }

    async fn get(&self, key: &str, range: Option<Range>) -> Result<Option<Vec<u8>>> {
        let s = self.state();
        Ok(s.objects.get(key).map(|o| match range {
            None => o.data.clone(),
            Some(r) => {
                let b = r.bounds(o.data.len() as u64);
                o.data[b.start as usize..b.end as usize].to_vec()
            }
        }))
    }

    async fn head(&self, key: &str) -> Result<Option<Meta>> {
        Ok(self.state().objects.get(key).map(|o| meta(key, o)))
    }

    async fn put(&self, key: &str, data: Vec<u8>, mode: PutMode) -> Result<Option<Meta>> {
        let mut s = self.state();
        let current = s.objects.get(key).map(|o| o.etag.as_str());
        let allowed = match (&mode, current) {
            (PutMode::Overwrite, _) => true,
            (PutMode::Create, current) => current.is_none(),
            (PutMode::IfMatch(want), current) => current == Some(want.as_str()),
        };
        if !allowed {
            return Ok(None);
        }
        let etag = content_etag(&data);
        let stored = Stored { data, etag };
        let m = meta(key, &stored);
        s.objects.insert(key.to_string(), stored);
        Ok(Some(m))
    }

    async fn create_multipart(&self, key: &str) -> Result<String> {
        let mut s = self.state();
        s.next_upload += 1;
        let id = format!("upload-{}", s.next_upload);
        s.uploads.insert(
            id.clone(),
            Upload {
                key: key.to_string(),
                parts: BTreeMap::new(),
            },
        );
        Ok(id)
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        data: Vec<u8>,
    ) -> Result<Part> {
        let mut s = self.state();
        let upload = s
            .uploads
            .get_mut(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(|| failed("upload_part", key, "no such upload"))?;
        if number == 0 {
            return Err(failed("upload_part", key, "part numbers start at 1"));
        }
        let etag = content_etag(&data);
        upload.parts.insert(number, (data, etag.clone()));
        Ok(Part { number, etag })
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<Part>,
    ) -> Result<Meta> {
        let mut s = self.state();
        let upload = s
            .uploads
            .get(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(|| failed("complete_multipart", key, "no such upload"))?;
        let mut data = Vec::new();
        let mut first_size = None;
        for (i, p) in parts.iter().enumerate() {
            let (bytes, _) = upload
                .parts
                .get(&p.number)
                .filter(|(_, e)| *e == p.etag)
                .ok_or_else(|| failed("complete_multipart", key, "unknown part or etag"))?;
            let last = i + 1 == parts.len();
            if !last {
                if bytes.len() < self.min_part_bytes {
                    return Err(failed(
                        "complete_multipart",
                        key,
                        "a part but the last is too small",
                    ));
                }
                if *first_size.get_or_insert(bytes.len()) != bytes.len() {
                    return Err(failed(
                        "complete_multipart",
                        key,
                        "parts but the last differ in size",
                    ));
                }
            }
            // R2's rule as its docs give it: the last part may be smaller,
            // never larger (checked here so that tests keep to it).
            if last && first_size.is_some_and(|f| bytes.len() > f) {
                return Err(failed(
                    "complete_multipart",
                    key,
                    "the last part is larger than the others",
                ));
            }
            data.extend_from_slice(bytes);
        }
        s.uploads.remove(upload_id);
        let stored = Stored {
            etag: content_etag(&data),
            data,
        };
        let m = meta(key, &stored);
        s.objects.insert(key.to_string(), stored);
        Ok(m)
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        let mut s = self.state();
        match s.uploads.get(upload_id) {
            Some(u) if u.key == key => {
                s.uploads.remove(upload_id);
                Ok(())
            }
            // As R2: completed, aborted or unknown uploads are gone.
            None => Err(failed("abort_multipart", key, "no such upload")),
            Some(_) => Err(failed("abort_multipart", key, "upload is for another key")),
        }
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        let mut s = self.state();
        for k in keys {
            s.objects.remove(k);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_store_contract() {
        futures_executor::block_on(super::super::contract::check(
            &Memory::new().with_min_part_bytes(4),
            4,
        ));
    }

    #[test]
    fn multipart_parts_follow_r2s_size_rule() {
        futures_executor::block_on(async {
            let m = Memory::new().with_min_part_bytes(4);
            let id = m.create_multipart("k").await.unwrap();
            let a = m.upload_part("k", &id, 1, b"abc".to_vec()).await.unwrap();
            let b = m.upload_part("k", &id, 2, b"defg".to_vec()).await.unwrap();
            // A part but the last under the minimum is refused.
            assert!(m.complete_multipart("k", &id, vec![a, b]).await.is_err());
            assert_eq!(m.open_uploads(), vec![id]);
        });
    }
}
