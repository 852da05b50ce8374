"""Golden-number regression test for lola-games (recorded at commit 8051961, CPU, torch 2.13.0+cpu).

Runs every ``lola-games reproduce NAME --smoke`` experiment and the README quick start as
subprocesses into ``tmp_path`` and checks that each recorded result file (metrics.csv,
results.csv and the other CSV/JSON result tables; config.json files are not checked: they
carry the package version) has the SHA-256 recorded before the restructure.
Whole file takes about 80 s on 2 CPU cores.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = {
    "coin-game": {
        "coin_shares.csv": "c44a7910ad50e1cfecb3c5c147862723af534b140f8350dc7cafab6227f5b373",
        "lola/metrics.csv": "ae1843751dbade5fe4eed6075f5380684031a7de73f837610017e82ed077affb",
        "nl/metrics.csv": "d8ab22884e05b1b7a964453593a61a5a7b09825fc046e97fd81b8ce44a7950ec",
        "om/metrics.csv": "80f7c05eb53b3e2a99616fa24c67f4c670b4c7b995cc22d3bc772eff98ca9ea7",
        "results.csv": "af5cb21881ba3eec932b31de8370b686bb1ad811684e72e477b7f4a096dcb190",
    },
    "cola": {
        "consistency.json": "6a3b5a77228471f634c2b6e7ad4029ca5021187b1d20237f28ffa46417db85df",
        "ipd_0.03_cgd/metrics.csv":
            "b1a9f4aa441cf4b08f6ecb066dcdbf809bca7f679fc5e55bae785a2abad4838c",
        "ipd_0.03_cola/metrics.csv":
            "5af4466ddd26f2ad04c25fe47972a7b4791dc1845f3e27aa1b6af113f7dfe555",
        "ipd_0.03_hola2/metrics.csv":
            "ee0d913e5f511391a8b75855fe75ac90b2d83d0075746911279a080992e58f7f",
        "ipd_0.03_lola/metrics.csv":
            "68c1affa95d20ad7866b90e1cf11b57fc84771972056e673e0e388df5f22f7e2",
        "ipd_1_cgd/metrics.csv": "169dfd22fb7bef4a851c1cbea2eb32ab070a628fb68b9a0cd90d28fbbf2f85e0",
        "ipd_1_cola/metrics.csv":
            "90d84ba667b3ecfc1c128da20daac0d87884b022a9b1828f5b63e18e634e02f5",
        "ipd_1_hola2/metrics.csv":
            "c03490f890c882ca3a150da99f948517b8ac5bb157750a79da56cc5942955586",
        "ipd_1_lola/metrics.csv":
            "b3b15660ccefa7d107b5635de04833e8e18ad294619354dabf3f04cf412d8721",
        "mp_10_cgd/metrics.csv": "adcb3fb80efc6dac5fbb6cae3dfe1dadb6aef0628a062dc708a026ed4116f4ae",
        "mp_10_cola/metrics.csv":
            "79a5e39d3e2cf17d4d5bf0ba9522fa53a458b011f1d090b9c06e4e095994e671",
        "mp_10_hola2/metrics.csv":
            "b3a26066d9376923f5a95b1da148733617b16a0d09ec0499a72c35d57d936a91",
        "mp_10_lola/metrics.csv":
            "dd19068f63b7319904dc0d62389b1a878c72eb41ec18d515008ae5b7c325cb41",
        "networks/ipd_0.03.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/ipd_1.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/mp_0.01.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/mp_0.5.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/mp_1.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/mp_10.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/mp_5.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/tandem_0.01.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/tandem_0.1.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/tandem_0.3.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/tandem_0.5.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "networks/tandem_1.curve.json":
            "37517e5f3dc66819f61f5a7bb8ace1921282415f10551d2defa5c3eb0985b570",
        "results.csv": "744839c179c053ceab8e878f49a2663f95e2615be70814f50d699c470bcb028c",
        "tandem_0.1_cgd/metrics.csv":
            "2c02078dbe6ead520d0d93f54008a51706fcd883ec3879bc29a02815304e6a9c",
        "tandem_0.1_cola/metrics.csv":
            "5945a26840bbd0665641184f7072e9d411c8fbaff1e117a10d3811b84bbf355d",
        "tandem_0.1_hola2/metrics.csv":
            "4efbb2ab7fcbcdc365ff96c4fec3bf4a8881521623adfaa11a344f42757dfe00",
        "tandem_0.1_lola/metrics.csv":
            "e9f3666cd75c4fcd536c56a9d43e0e4d65861a4909e7aea7ff2e880cdd46b6b3",
        "tandem_1_cgd/metrics.csv":
            "6a816dd995a338f7314c0deb86c2ead5ef25ede37702f0253d75f253b3d0b6bf",
        "tandem_1_cola/metrics.csv":
            "a18ad5edde6ee8912f9941ab1b153e19fc976c45a46fce9a13e744ce816fbd33",
        "tandem_1_hola2/metrics.csv":
            "e90a6d9196d3e6c47cc6e3fed60a09cdc510194be1427bd5c73da5bfcb19e930",
        "tandem_1_lola/metrics.csv":
            "b4c258151bdeb8d5d311f81ee085ab61bf0a3badbf46ee07baa6571d629c14e5",
    },
    "dice-paper": {
        "comparison.csv": "c9aa65ed0810b88c13c4831cf01df6142b74208ec8dfeb5d617872091af20827",
        "k0/metrics.csv": "2a3363692fd1f160c8cd7f1105783d4362f1cdd22fd1fd55e9258098f506b61c",
        "k1/metrics.csv": "a39352b1b71352646dacf3f3fddc21f6c83f75517b8d9331561b638012f5e6b2",
        "k1_inner03/metrics.csv":
            "634feec946d433d4314ded2f572ac00279223996ca7b0cc0ba028d53151b09f8",
        "k2/metrics.csv": "40e97166461078fa59fdfc93d5f2600eb8901ed3077ab6724dc626b6aae70fcc",
        "k3/metrics.csv": "24546280e2b5622e5a19593d33c7fa95a062a6b71a68ba7042fbcba707067828",
        "nobox/metrics.csv": "bfc72d09d3bf2f00497d621a9984ae05bdac4d415fed0c0b3f1bd169cf281a9a",
        "om/metrics.csv": "1413e9462d6bacbe5cb841df43b51a8570ac105636e3c4464f24a42bb3ad4991",
        "original/metrics.csv": "207717274e2ddaf5e99a823e06c5de22b878156af5601817f4ba1cf362e17725",
        "results.csv": "48deaef21b08750d78b5d3e19d6c0fb0148f3274f0fdd0efb7a96982ae18cc37",
    },
    "lola-dice": {
        "k0/metrics.csv": "31f4958d431fb4360f8327aeab5e27a4ac0bd1d06c93f41b3f848a636a6b1d18",
        "k1/metrics.csv": "780a4b8a99570c2437fb6cf99e3251465f0771549d62b1bbad19f4e68e6d0ee8",
        "k2/metrics.csv": "14f5750ae14b6c61083f53f35a9804f409271d6c0edefb8c0b4d3c8aa073f164",
        "k3/metrics.csv": "0663a2f1ebe876456dabd3c52e778c42b1b403bbb154169b175dbf5741582c96",
        "results.csv": "5b46291eae4a14a40fcd9adbb3f8937a0702e8695274f82e50853f850748d106",
    },
    "lola-exact": {
        "imp_lola_lola/metrics.csv":
            "2054677367c785fba2f861f1d4928b18e820868e1e76e60e06611c5cb96de569",
        "imp_lola_nl/metrics.csv":
            "f60c3b7f515c28126060a259a0eaf966e7f3f9bb68380bef56fdf4d7e35b5a63",
        "imp_nl_nl/metrics.csv": "b4a2a476def10b9ff1541f9d0c3c4c262944113691e320631bc720cd46607445",
        "ipd_lola_lola/metrics.csv":
            "77135d728dc41e754caaaffe81ffe79609bf3fc91e18de7de202528bed0b1fe5",
        "ipd_lola_nl/metrics.csv":
            "e732bdf92fcd43057163e117927dc6e542613424cedb7ca957ee9780fe261029",
        "ipd_nl_nl/metrics.csv": "28552a397a58e4e5b172de08be0c39ddcb16b45c91916f63120b0cfbeb874551",
        "results.csv": "e5c064c5d034dcc0719fbd803936add2f9312b6f1790543583e0f302a054bda1",
    },
    "lola-higher-order": {
        "hola2_hola2/metrics.csv":
            "c3d65922a925816d99fb0a829348fd5bee6b6bd31c4f891f9511150d63de9c7d",
        "hola2_lola/metrics.csv":
            "da4ab95d57c2452fe2ca311b25e3016d3536bf07e3ddb416fa5a305382708a6e",
        "hola2_lola_eta1/metrics.csv":
            "9b8de943d77f8b824c58768daf8c5c3ac6110079f828a2b3e365cad9e2a9e539",
        "hola2_nl/metrics.csv": "b4ee842209c5130837f009bbf56bc7a1e6a329bf37b56fbdd93fa6468e6a55d4",
        "lola_lola/metrics.csv": "e0c5e01b87eeda09b74c9ce6a96668cf3deca4484882e9d309035ca98fe00a09",
        "lola_nl/metrics.csv": "1e8d059d3a0e6c731924b77fa41bee001152363e2706f8a8d6ae6baacfdfe08d",
        "lola_nl_eta1/metrics.csv":
            "100d7771636960116c28ffbd9c6254e635dd46f59d4800c1d32c44fba1a16d6f",
        "nl_nl/metrics.csv": "4116715df6e4c3c225f5d7ba828d11f64585fc21179e695dd6d0e171fd4f18dd",
        "results.csv": "1c710a3cf038814b2dad283a713bf9ab342a98d750adf309827fd706d861bd74",
    },
    "lola-pg": {
        "imp_lola/metrics.csv": "29fc6b875da253998ff2e764ee8dddcefdfe28bbe03c6027658e72900335abe5",
        "imp_lola_half/metrics.csv":
            "1d7e29a770d55c6ea3d5b8b62d48cf549d0ff1f8f2f0fd90ff170f2754e84125",
        "imp_nl/metrics.csv": "1cc352d44c20fd75275252e38e996dd932e89a1263437460e5a7ca555821720e",
        "ipd_lola/metrics.csv": "d2b1b31722669a6789d99391a8818fef10bc1eefc5fa88632e44dea844731831",
        "ipd_lola_half/metrics.csv":
            "8113dbd6392e757e8b0fb04b1177d6db75f0dcb38cea0f1c5a9482ed7142ed61",
        "ipd_nl/metrics.csv": "5d147ec0d6affef9bfc72a0711ead0356edcb5ce4960b2ff7edd137761c96ac7",
        "paper_table.csv": "9aa10a54228cf8d6fefef295ca4fdbe6a3a1f1c645b8ea04726f997ea530c5bb",
        "results.csv": "e97412deeb818636d2b2b4dbd5ec27058482eed8946e9ceb3ddabd428aff47a7",
    },
    "lookahead": {
        "k0/metrics.csv": "46875901557ce6a8aee0623b58a0341ad2432b25743781ac23c7655704f297e9",
        "k1/metrics.csv": "f0a75161cd8acf10668501fe93843720b10284832af3969a8f3d1bdb103f9036",
        "k2/metrics.csv": "f9fbd4d7df6e1219d586425d97a2b77acf21a61630b9bdd61f89a9519a7eb297",
        "k3/metrics.csv": "b23c79424f0f16fdc6aefb04a6a8798ddaed992970f97409fca301ee8eba5691",
        "results.csv": "f5d9847562d5522c1555975ef56c8dd24260e6c227d651502b9a49e3ec36484d",
    },
    "mfos": {
        "chicken_nl/meta_metrics.csv":
            "335a6422142ad3b83c9aba4a5f77d8191634a91eaf3b3b29f798e55e95a7f2fe",
        "imp_lola/meta_metrics.csv":
            "56255e124458e0397d425e7d60b1d917337768a736fb057be49ebb720b1f2ce2",
        "imp_nl/meta_metrics.csv":
            "7cf2e58a9e278f9db387e1dcd6af2dceb2eb5eb4b115957a28b1bf5377a8d05c",
        "ipd_lola/meta_metrics.csv":
            "e606f2b95424f7dba81035759e60e2f2af9c849c317360294133708a452bad06",
        "ipd_nl/meta_metrics.csv":
            "8014726e0094dab9eb8254a518e93553d26f7039bb60c22b36fb12b0ca545098",
        "ipd_self/meta_metrics.csv":
            "580bcce677bb731fa1293a50d37f1a40986268f29d6c9fbdd6b4053a3f3474f3",
        "results.csv": "6fc0b44abee387bfa3516e3ab9febb7c9822705688aad5ac4685656a2680f7d5",
    },
    "pola-dice": {
        "lola_dice/metrics.csv": "5ecf07a408dc4e5caf3a0d586a40dfebacb7a8dc0eb9dc74cc31ddc46d5b5ad0",
        "pola_dice/metrics.csv": "3b3acb12f3fb52c368ee8244fe4a610f60271237ca3f7ac750794164424bb9c1",
        "pola_dice_ipd.csv": "a5879e9f58e6a9421165c92f88ef1b2ce1303fd0e3aebab1471b4c0bd60bd78f",
        "pola_om/metrics.csv": "0a195d031bc951d98ba0f833c6c7ad30247a82347203dbcce106d151133991ce",
        "results.csv": "8d430f89647f08d8f4f8836edc58b30404c9112526873dc8dea5531f9b15bed8",
    },
    "pola-exact": {
        "lola_cf1.1/metrics.csv":
            "8c7a5dd951af7f7cd85607f6bd750eb32acfd5dc50cda1370a3303f07ab67aa6",
        "lola_cf1.25/metrics.csv":
            "a6d38e6dca3fc226416aeb1bc6831e414fd50d209306079164a73620cc488a87",
        "lola_cf1.33/metrics.csv":
            "d1ba1bea05072d0f427464cd7c724c624f76a4182cb84325698e179037c0e736",
        "lola_cf1.4/metrics.csv":
            "03a2c4a6b709af06fea86f9a7a4f8343d538689275e566817413bca272e2a302",
        "lola_cf1.6/metrics.csv":
            "8b47a0eb1cacf5d723ce3a2bfc0e3df6c4666da331f57026d03083ea1c3b727e",
        "lola_mlp_actions_cf1.33/metrics.csv":
            "2a9b1a522393212445fdeef8f4b387cbd5c9eb6df46b3f03458dfd83e4981726",
        "lola_mlp_cf1.33/metrics.csv":
            "c831fb7878b18d854879e6d09c4ac7c21890227f445403b5711e15b8ef30c09e",
        "pola_cf1.1/metrics.csv":
            "314c5b1127b475fd87acc0e55d286d179450ffd4164713b1207d33900d9bbb74",
        "pola_cf1.25/metrics.csv":
            "52c58cf90ed4fdd9eaac78ff4444e46bebe9f197aee7c3beb7cd568af2b9e916",
        "pola_cf1.33/metrics.csv":
            "c6ac8f4db3dbbf16513af48977946a21d90cdeee97b26515e19c7e60b369d7b8",
        "pola_cf1.4/metrics.csv":
            "31e62c964dd881b6340439f17497674904b8174a06d3ed57199631abd93a73c5",
        "pola_cf1.6/metrics.csv":
            "0208dd94d9b730def55ba849bb395193efa3748965d26aa5c42644609c4dfc3a",
        "pola_mlp_actions_cf1.33/metrics.csv":
            "ecc728ffb449ba7a3cb34b48b8d5be7806d3469ceaadee67a56c403d5d163e5a",
        "pola_mlp_cf1.33/metrics.csv":
            "75f694a12b35552a01f78fc4f90b3e931e84171de32ec38faa49de153beab0d7",
        "results.csv": "09a9c2fc8c45793511a27545ca60bf5293d5ed661202503532913f716648a8d1",
        "summary.csv": "5920393e13774de475775458a9d36be508c2418eebe6105f0a31c9b433224b79",
    },
    "sos": {
        "hamiltonian_cgd/metrics.csv":
            "b98ba6f208b161d49780e4777f276c0ab2a38668e7b6eeebb11a9cac0ebc3b31",
        "hamiltonian_co/metrics.csv":
            "a77d71341f027e99372654170e9a3054288ca8ac2e0d5bd21eddcf7ae3a4b414",
        "hamiltonian_eg/metrics.csv":
            "2ab2d4715a2e16f73d196c77b1e93c8f2dc7ae6def9f3c1c0128777a2bd132e3",
        "hamiltonian_la/metrics.csv":
            "2ab2d4715a2e16f73d196c77b1e93c8f2dc7ae6def9f3c1c0128777a2bd132e3",
        "hamiltonian_lola/metrics.csv":
            "8247919f4a65333d5be5eb82a2ec0f828c87ad6b4e981d51d54b5c5e8f299930",
        "hamiltonian_naive/metrics.csv":
            "0210ccf0f7ba2e51516c6a3e495afabe0ac2932f1ae61ba3c8c503ca83b7ed7b",
        "hamiltonian_sga/metrics.csv":
            "a77d71341f027e99372654170e9a3054288ca8ac2e0d5bd21eddcf7ae3a4b414",
        "hamiltonian_sos/metrics.csv":
            "d32d3b313966b035515d164b39a68a97dd2701b947a5f0dbee13b74b02aa427e",
        "ipd_cgd/metrics.csv": "5085d217e1d58be9d207e3762d8e856c3fb542e84c69da1437db26a8ba3485cc",
        "ipd_co/metrics.csv": "f9f5b62b30ecf0f91ba5fc2f6258e50981b0d5a34c4714d0e2913e4b0b34e1d6",
        "ipd_eg/metrics.csv": "68f27175f890c7dd3de4b9f98b72844932da05c347620241881de3c37ca3d667",
        "ipd_la/metrics.csv": "a11092133742db449d7eab7172fc826a3c0eefd452cb77d3fbca9024a3bcf368",
        "ipd_lola/metrics.csv": "3b3362813ddff2cc753c112b155e4436f1e384aa4cc0bf38e5a10481a2f25529",
        "ipd_naive/metrics.csv": "bf3586bab1f16e62475614dc7a9561cb29895c9b9841c0286a690580fdda0b3b",
        "ipd_sga/metrics.csv": "6f823c921b44e37af588e1189da68483910dc97becaae6b4bb18aa43da68f93f",
        "ipd_sos/metrics.csv": "98252123a1a7982c16e716cdf6e2f6f7210e1c82e13b6cb47af8dc3719ab01cd",
        "mp_cgd/metrics.csv": "a66c4159052807328f5ab83a63c2e18a4df58941f5ff1bed193dc94f238e4400",
        "mp_co/metrics.csv": "c4ee201638ec9a86ba14bbf0def39f2eeeff1b361918ec30b3b95535e8bc6b94",
        "mp_eg/metrics.csv": "f53590ecd3ff1add79955f262d00412d5d55b5ee166fbff7f5c39462123d088f",
        "mp_la/metrics.csv": "2dae3448acd5ee9fc9da9c437159127e6cebd69a874850e7d29a2fd851905200",
        "mp_lola/metrics.csv": "b99d09abc0e1788ca307e8003d6978ea60669058cf0d030077f2517691036665",
        "mp_naive/metrics.csv": "0f5f0e265f069fa228e8dbef91200ea623eb1bcac3b0c17b58c7241b6c9a0395",
        "mp_sga/metrics.csv": "2dae3448acd5ee9fc9da9c437159127e6cebd69a874850e7d29a2fd851905200",
        "mp_sos/metrics.csv": "4194a407f468fb4e2b653eb6501eae24c03c8ae8ffa79f4cf63ce32f8fb46b18",
        "results.csv": "94ad9b5c2d082e73b3e1d9adcc30da434fd2d5d07aceeb4b187541795d112251",
        "tandem_la/metrics.csv": "45ea292f3c1fa9bd87ccdd79bb8fe569204e7b6b63cdcd594f7b4d02e55a0373",
        "tandem_lola/metrics.csv":
            "1aa2d70045b1a193f6056b6d86babccd981f41bb155216eff200ad486c5e1af0",
        "tandem_naive/metrics.csv":
            "44a2d1e9f06d3b98d3dd2c60db504d0ba04202b869885939e409c6b1972adc51",
        "tandem_sos/metrics.csv":
            "1aa2d70045b1a193f6056b6d86babccd981f41bb155216eff200ad486c5e1af0",
    },
}

QUICKSTART = {"metrics.csv": "6cab554b18fd63fcb59e0c2f36f4e14424cd4c5ff95ff85152163f12771c4d42"}


def _cli() -> str:
    exe = Path(sys.executable).with_name("lola-games")
    if exe.exists():
        return str(exe)
    found = shutil.which("lola-games")
    if found is None:
        pytest.fail("lola-games console script not found next to sys.executable nor on PATH")
    return found


def _run(args, tmp_path):
    # CPU only: the recorded numbers are CPU numbers (train's --device defaults to auto)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    r = subprocess.run([_cli(), *args], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, (
        f"lola-games {' '.join(args)} exited {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    )


def _check(label, out, expected):
    problems = []
    for rel, sha in sorted(expected.items()):
        path = out / rel
        if not path.is_file():
            problems.append(f"{label}: {rel} missing")
            continue
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != sha:
            problems.append(f"{label}: {rel} sha256 {got} != recorded {sha}")
    assert not problems, "numbers changed:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_reproduce_smoke_numbers_unchanged(name, tmp_path):
    out = tmp_path / name
    _run(
        ["reproduce", name, "--smoke", "--out", str(out), "--no-progress", "--formats", "png"],
        tmp_path,
    )
    _check(name, out, GOLDEN[name])


def test_quickstart_numbers_unchanged(tmp_path):
    out = tmp_path / "quickstart"
    _run(
        [
            "train",
            "--game",
            "ipd",
            "--agents",
            "lola",
            "lola",
            "--seeds",
            "64",
            "--updates",
            "200",
            "--out",
            str(out),
        ],
        tmp_path,
    )
    _check("quickstart", out, QUICKSTART)
