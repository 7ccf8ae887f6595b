#include "tests/support/openssl_ca_scripts.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tests/support/subprocess.hpp"

namespace certctl::testing {
namespace {

void write(const std::string& path, const std::string& text, mode_t mode) {
  {
    std::ofstream f(path, std::ios::trunc);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + path);
  }
  ::chmod(path.c_str(), mode);
}

}  // namespace

openssl_ca_dir make_openssl_ca(const std::string& base) {
  openssl_ca_dir ca;
  ca.dir = base + "/openssl-ca";
  std::filesystem::create_directories(ca.dir + "/newcerts");
  ::chmod(ca.dir.c_str(), 0700);
  const std::string& d = ca.dir;
  ca.index_path = d + "/index.txt";
  write(ca.index_path, "", 0600);
  write(d + "/serial", "1000\n", 0600);
  write(d + "/crlnumber", "01\n", 0600);
  write(d + "/openssl.cnf",
        "[ ca ]\ndefault_ca = test_ca\n"
        "[ test_ca ]\n"
        "dir = " +
            d +
            "\n"
            "database = $dir/index.txt\nnew_certs_dir = $dir/newcerts\nserial = $dir/serial\n"
            "crlnumber = $dir/crlnumber\ncertificate = $dir/root.pem\nprivate_key = $dir/root.key\n"
            "default_md = sha256\ndefault_days = 30\ndefault_crl_days = 7\n"
            "policy = loose\nunique_subject = no\ncopy_extensions = copy\n"
            "x509_extensions = leaf\n"
            "[ loose ]\ncommonName = supplied\n"
            "[ leaf ]\nbasicConstraints = critical,CA:FALSE\n"
            "keyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n"
            "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
            "[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = Test OpenSSL CA\n"
            "[ v3_ca ]\nbasicConstraints = critical,CA:TRUE\n"
            "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n",
        0600);
  ca.root_path = d + "/root.pem";
  auto made = run_shell("cd " + shell_quote(d) +
                        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                        " -keyout root.key -out root.pem -days 3650 -config openssl.cnf"
                        " -extensions v3_ca 2>&1");
  if (made.exit_code != 0) throw std::runtime_error("openssl req: " + made.out);
  const std::string cnf = shell_quote(d + "/openssl.cnf");
  ca.sign = d + "/sign.sh";
  write(ca.sign,
        "#!/bin/sh\nset -e\nD=" + shell_quote(d) +
            "\nREQ=\"$D/req.$$.csr\"; OUT=\"$D/out.$$.pem\"\n"
            "cat > \"$REQ\"\n"
            "openssl ca -batch -config " +
            cnf +
            " -days \"${CERTCTL_VALIDITY_DAYS:-30}\" -notext -in \"$REQ\" -out \"$OUT\" "
            ">/dev/null 2>\"$D/sign.err\" || { cat \"$D/sign.err\" >&2; exit 3; }\n"
            "cat \"$OUT\" \"$D/root.pem\"\nrm -f \"$REQ\" \"$OUT\"\n",
        0700);
  ca.revoke = d + "/revoke.sh";
  write(ca.revoke,
        "#!/bin/sh\nset -e\nD=" + shell_quote(d) + "\necho \"$@\" >> \"$D/revoke.args\"\n" +
            "openssl ca -batch -config " + cnf +
            " -revoke \"$D/newcerts/$1.pem\" -crl_reason \"$2\" 2>&1 >&2\n",
        0700);
  ca.crl = d + "/crl.sh";
  write(ca.crl, "#!/bin/sh\nset -e\nopenssl ca -batch -config " + cnf + " -gencrl 2>/dev/null\n",
        0700);
  ca.slow = d + "/slow.sh";
  // Leaves its pid behind, so a test can check it was killed rather than waited for.
  write(ca.slow, "#!/bin/sh\necho $$ > " + shell_quote(d + "/slow.pid") + "\nexec sleep 30\n",
        0700);
  ca.flood = d + "/flood.sh";
  write(ca.flood, "#!/bin/sh\nexec yes certificate\n", 0700);
  ca.wrong = d + "/wrong.sh";
  write(ca.wrong, "#!/bin/sh\ncat > /dev/null\ncat " + shell_quote(ca.root_path) + "\n", 0700);
  return ca;
}

}  // namespace certctl::testing
