//! The store contract as one test, run against every [`super::Store`]
//! implementation, so they all behave alike (test builds only).

use super::{list_all, list_all_from, PutMode, Range, Start, Store, LIST_LIMIT};

/// Checks `store` (empty) against the contract; `min_part` is the smallest
/// part it accepts before the last one of a multipart upload.
pub async fn check<S: Store>(store: &S, min_part: usize) {
    assert!(store
        .list("", Start::First)
        .await
        .unwrap()
        .objects
        .is_empty());
    assert_eq!(store.get("a/x", None).await.unwrap(), None);
    assert_eq!(store.head("a/x").await.unwrap(), None);

    // Plain puts, listing in key order by prefix.
    for k in ["a/2", "a/1", "b/1", "a/10"] {
        let m = store
            .put(k, k.as_bytes().to_vec(), PutMode::Overwrite)
            .await
            .unwrap();
        assert_eq!(m.unwrap().size, k.len() as u64);
    }
    let keys = |l: super::Listing| l.objects.into_iter().map(|m| m.key).collect::<Vec<_>>();
    assert_eq!(
        keys(store.list("a/", Start::First).await.unwrap()),
        ["a/1", "a/10", "a/2"]
    );
    assert_eq!(keys(store.list("", Start::First).await.unwrap()).len(), 4);

    // Whole and ranged reads.
    store
        .put("r", b"0123456789".to_vec(), PutMode::Overwrite)
        .await
        .unwrap();
    let slice = Range::Slice {
        offset: 2,
        length: 3,
    };
    assert_eq!(store.get("r", Some(slice)).await.unwrap().unwrap(), b"234");
    let suffix = Range::Suffix { length: 4 };
    assert_eq!(
        store.get("r", Some(suffix)).await.unwrap().unwrap(),
        b"6789"
    );
    assert_eq!(store.get("r", None).await.unwrap().unwrap(), b"0123456789");

    // Conditional puts: create-only and compare-and-swap on the etag.
    let head = store.head("r").await.unwrap().unwrap();
    assert_eq!(head.size, 10);
    assert_eq!(
        store
            .put("r", b"x".to_vec(), PutMode::Create)
            .await
            .unwrap(),
        None
    );
    let stale = PutMode::IfMatch("not-the-etag".into());
    assert_eq!(store.put("r", b"x".to_vec(), stale).await.unwrap(), None);
    let swapped = store.put("r", b"new".to_vec(), PutMode::IfMatch(head.etag.clone()));
    let swapped = swapped.await.unwrap().unwrap();
    assert_ne!(swapped.etag, head.etag);
    assert_eq!(store.get("r", None).await.unwrap().unwrap(), b"new");
    let missing = PutMode::IfMatch(head.etag);
    assert_eq!(
        store.put("nope", b"x".to_vec(), missing).await.unwrap(),
        None
    );
    assert!(store
        .put("c", b"x".to_vec(), PutMode::Create)
        .await
        .unwrap()
        .is_some());

    // Multipart: the object appears whole on completion, not before.
    let big = vec![7u8; min_part];
    let id = store.create_multipart("m").await.unwrap();
    let p1 = store.upload_part("m", &id, 1, big.clone()).await.unwrap();
    let p2 = store
        .upload_part("m", &id, 2, b"tail".to_vec())
        .await
        .unwrap();
    assert_eq!(store.head("m").await.unwrap(), None);
    let done = store
        .complete_multipart("m", &id, vec![p1, p2])
        .await
        .unwrap();
    assert_eq!(done.size, min_part as u64 + 4);
    let whole = store.get("m", None).await.unwrap().unwrap();
    assert_eq!(
        (&whole[..min_part], &whole[min_part..]),
        (&big[..], &b"tail"[..])
    );
    let id = store.create_multipart("n").await.unwrap();
    store.upload_part("n", &id, 1, b"x".to_vec()).await.unwrap();
    store.abort_multipart("n", &id).await.unwrap();
    assert_eq!(store.head("n").await.unwrap(), None);
    // Uploads that are no longer open cannot be aborted, as on R2.
    assert!(store.abort_multipart("n", &id).await.is_err());
    let done_id = store.create_multipart("o").await.unwrap();
    let part = store
        .upload_part("o", &done_id, 1, b"o".to_vec())
        .await
        .unwrap();
    store
        .complete_multipart("o", &done_id, vec![part])
        .await
        .unwrap();
    assert!(store.abort_multipart("o", &done_id).await.is_err());
    assert_eq!(
        store.get("o", None).await.unwrap().as_deref(),
        Some(&b"o"[..])
    );
    store.delete(&["o".to_string()]).await.unwrap();

    // Deletes of many keys, missing ones included.
    let gone: Vec<String> = ["a/1", "a/2", "zzz"].map(String::from).to_vec();
    store.delete(&gone).await.unwrap();
    assert_eq!(
        keys(store.list("a/", Start::First).await.unwrap()),
        ["a/10"]
    );

    // Pages of at most LIST_LIMIT keys, followed by cursor.
    for i in 0..LIST_LIMIT + 5 {
        store
            .put(&format!("p/{i:05}"), vec![], PutMode::Overwrite)
            .await
            .unwrap();
    }
    let first = store.list("p/", Start::First).await.unwrap();
    assert_eq!(first.objects.len(), LIST_LIMIT);
    let next = store
        .list("p/", Start::Cursor(first.cursor.as_deref().unwrap()))
        .await
        .unwrap();
    assert_eq!(next.objects.len(), 5);
    assert_eq!(next.cursor, None);
    let all = list_all(store, "p/").await.unwrap();
    assert_eq!(all.len(), LIST_LIMIT + 5);
    assert!(all.windows(2).all(|w| w[0].key < w[1].key));

    // Starting after a key, present or not, then following the cursor.
    let after = store.list("p/", Start::After("p/00003")).await.unwrap();
    assert_eq!(after.objects[0].key, "p/00004");
    let after = store.list("p/", Start::After("p/00003x")).await.unwrap();
    assert_eq!(after.objects[0].key, "p/00004");
    let tail = list_all_from(store, "p/", Start::After("p/01000"))
        .await
        .unwrap();
    assert_eq!(tail.len(), 4);
    let from_before = list_all_from(store, "p/", Start::After("p")).await.unwrap();
    assert_eq!(from_before.len(), LIST_LIMIT + 5);
}
