# adversarial: FGSM and PGD against the fixtures' MLP and CNN on a few test images; PGD starts at a random point of
# the ball. The self-checks hold for these weak classifiers too (the fixture's CNN, barely trained, needs ε = 0.3).
# The other two tests show checks failing: "well below clean" when the only ε is 0, "PGD at least as strong as
# FGSM" for a crippled PGD.
adgraph_outlook_demo(adversarial)
target_sources(adversarial PRIVATE adversarial_attack.cpp)
add_test(NAME outlook_adversarial
         COMMAND adversarial --mlp ${OUTLOOK_MLP} --cnn ${OUTLOOK_CNN} --limit 100 --batch 50 --eps 0 0.1 0.3
                 --random-start --out ${CMAKE_CURRENT_BINARY_DIR}/adversarial_out)
add_test(NAME outlook_adversarial_no_attack
         COMMAND adversarial --mlp ${OUTLOOK_MLP} --limit 100 --batch 50 --pgd-steps 2 --eps 0
                 --out ${CMAKE_CURRENT_BINARY_DIR}/adversarial_no_attack)
set_tests_properties(outlook_adversarial_no_attack PROPERTIES
                     PASS_REGULAR_EXPRESSION "FAIL: 784-64-10: PGD accuracy at the largest ε = 0 is [0-9.]+, not")
# A PGD crippled to one step of 0.01·ε is weaker than FGSM: the "PGD at least as strong" check must catch it.
add_test(NAME outlook_adversarial_weak_pgd
         COMMAND adversarial --mlp ${OUTLOOK_MLP} --limit 100 --batch 50 --pgd-steps 1 --pgd-alpha 0.01 --eps 0 0.1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/adversarial_weak_pgd)
set_tests_properties(outlook_adversarial_weak_pgd PROPERTIES
                     PASS_REGULAR_EXPRESSION "FAIL: 784-64-10 at ε = 0.1: PGD accuracy [0-9.]+ > FGSM accuracy")
set_tests_properties(outlook_adversarial PROPERTIES FIXTURES_REQUIRED "outlook_mlp;cnn_checkpoint")
set_tests_properties(outlook_adversarial_no_attack outlook_adversarial_weak_pgd PROPERTIES
                     FIXTURES_REQUIRED outlook_mlp)
set_tests_properties(outlook_adversarial outlook_adversarial_no_attack outlook_adversarial_weak_pgd PROPERTIES
                     LABELS "examples;outlook" SKIP_RETURN_CODE 77 ENVIRONMENT OPENBLAS_NUM_THREADS=1 TIMEOUT 120)
