//! `.npy`/`.npz` I/O: round trips, hand-written files in NumPy's format, and clear errors for
//! malformed or mismatched data.

use std::path::PathBuf;

use kiln_core::io::{ArrayData, NpyArray, Npz, load_npy, read_npy, write_npy, write_npz};
use kiln_core::tensor::to_f64_vec;
use kiln_core::{BackendKind, Error};
use proptest::prelude::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A `.npy` file written byte by byte as NumPy lays it out (format 1.0).
fn handmade_npy(descr: &str, fortran: bool, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn array_strategy() -> impl Strategy<Value = NpyArray> {
    prop::collection::vec(1usize..=4, 1..=3).prop_flat_map(|shape| {
        let n: usize = shape.iter().product();
        let data = prop_oneof![
            prop::collection::vec(-1e6f32..1e6, n).prop_map(ArrayData::F32),
            prop::collection::vec(-1e12f64..1e12, n).prop_map(ArrayData::F64),
            prop::collection::vec(any::<bool>(), n).prop_map(ArrayData::Bool),
            prop::collection::vec(any::<i64>(), n).prop_map(ArrayData::Int),
        ];
        (Just(shape), data).prop_map(|(shape, data)| NpyArray::new(shape, data).unwrap())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arrays_round_trip_through_npy_and_npz(a in array_strategy(), b in array_strategy(), k in 0u32..1_000_000) {
        let npy = scratch(&format!("rt-{k}.npy"));
        write_npy(&npy, &a).unwrap();
        prop_assert_eq!(read_npy(&npy).unwrap(), a.clone());

        let npz = scratch(&format!("rt-{k}.npz"));
        write_npz(&npz, [("first", &a), ("second", &b)]).unwrap();
        let mut archive = Npz::open(&npz).unwrap();
        prop_assert_eq!(archive.names(), vec!["first".to_string(), "second".to_string()]);
        prop_assert_eq!(archive.array("first").unwrap(), a);
        prop_assert_eq!(archive.array("second").unwrap(), b);
    }
}

#[test]
fn float_tensors_round_trip_with_shape_checks() {
    let device = kiln_core::device(backend()).unwrap();
    let values: Vec<f64> = (0..24).map(|i| i as f64 * 0.25 - 3.0).collect();
    let t = kiln_core::tensor::from_f64(&values, [4, 6], &device)
        .unwrap()
        .reshape([2, 3, 4]);
    let path = scratch("tensor.npz");
    let array = NpyArray::from_tensor(t);
    write_npz(&path, [("u", &array)]).unwrap();
    let mut npz = Npz::open(&path).unwrap();
    let back = npz
        .tensor::<3>("u", [Some(2), None, Some(4)], &device)
        .unwrap();
    assert_eq!(back.dims(), [2, 3, 4]);
    assert_eq!(to_f64_vec(back), values);

    let err = npz
        .tensor::<3>("u", [Some(2), Some(5), None], &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tensor.npz") && err.contains("array `u`"),
        "{err}"
    );
    assert!(
        err.contains("expected shape [2, 5, _], found [2, 3, 4]"),
        "{err}"
    );
    let err = npz
        .tensor::<2>("u", [None, None], &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected shape [_, _]"), "{err}");
}

#[test]
fn fortran_order_and_narrow_ints_from_numpy_layout() {
    let device = kiln_core::device(backend()).unwrap();
    // The 2x3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
    let payload: Vec<u8> = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let path = scratch("fortran.npy");
    std::fs::write(&path, handmade_npy("<f8", true, "(2, 3)", &payload)).unwrap();
    let t = load_npy::<2>(&path, [Some(2), Some(3)], &device).unwrap();
    assert_eq!(to_f64_vec(t), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

    let payload: Vec<u8> = [-7i16, 300, 12]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let path = scratch("int16.npy");
    std::fs::write(&path, handmade_npy("<i2", false, "(3,)", &payload)).unwrap();
    let a = read_npy(&path).unwrap();
    assert_eq!(a.data, ArrayData::Int(vec![-7, 300, 12]));
    let ints = a.to_int_tensor::<1>([Some(3)], &device).unwrap();
    assert_eq!(
        ints.into_data().iter::<i64>().collect::<Vec<_>>(),
        vec![-7, 300, 12]
    );
}

#[test]
fn malformed_npz_gives_a_clear_error() {
    let path = scratch("broken.npz");
    std::fs::write(&path, b"this is not a zip archive at all").unwrap();
    let err = Npz::open(&path)
        .err()
        .expect("a text file is not an archive");
    assert!(matches!(err, Error::Data { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("broken.npz") && text.contains("not a valid .npz archive"),
        "{text}"
    );

    let path = scratch("broken.npy");
    std::fs::write(&path, b"\x93NUMPY garbage").unwrap();
    let text = read_npy(&path).unwrap_err().to_string();
    assert!(
        text.contains("broken.npy") && text.contains("not a valid .npy file"),
        "{text}"
    );

    let text = read_npy(scratch("missing.npy")).unwrap_err().to_string();
    assert!(text.contains("missing.npy"), "{text}");
}

#[test]
fn missing_arrays_and_wrong_dtypes_are_named() {
    let device = kiln_core::device(backend()).unwrap();
    let path = scratch("named.npz");
    let mask = NpyArray::new(vec![2], ArrayData::Bool(vec![true, false])).unwrap();
    write_npz(&path, [("mask", &mask)]).unwrap();
    let mut npz = Npz::open(&path).unwrap();
    let text = npz.array("solution").unwrap_err().to_string();
    assert!(
        text.contains("array `solution`") && text.contains("[\"mask\"]"),
        "{text}"
    );
    let text = npz
        .tensor::<1>("mask", [Some(2)], &device)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("array `mask`") && text.contains("found dtype bool"),
        "{text}"
    );
    let text = npz
        .int_tensor::<1>("mask", [Some(2)], &device)
        .unwrap_err()
        .to_string();
    assert!(text.contains("expected an int array"), "{text}");
    let mask_tensor = mask.to_bool_tensor::<1>([Some(2)], &device).unwrap();
    assert_eq!(
        mask_tensor.into_data().iter::<bool>().collect::<Vec<_>>(),
        vec![true, false]
    );
}

#[test]
fn structured_dtypes_are_refused() {
    let path = scratch("complex.npy");
    std::fs::write(&path, handmade_npy("<c16", false, "(1,)", &[0u8; 16])).unwrap();
    let text = read_npy(&path).unwrap_err().to_string();
    assert!(text.contains("unsupported dtype"), "{text}");
}

/// The backend under test: `KILN_BACKEND`, flex by default.
fn backend() -> BackendKind {
    BackendKind::from_env().expect("KILN_BACKEND names a backend")
}
