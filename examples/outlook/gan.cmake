# The GAN on Fashion-MNIST (examples/outlook/gan.cpp): on tiny settings here, judged by the cnn fixture's
# classifier; its self-checks are that the samples' mean image moves towards the data's and that their Fréchet
# distance to the test images in the classifier's feature space falls well below the untrained G's.
adgraph_outlook_demo(gan)
target_sources(gan PRIVATE gan_report.cpp)
add_test(NAME outlook_gan
         COMMAND gan --limit 4000 --epochs 5 --samples 300 --scale 1 --max-ratio 0.7 --max-fid-ratio 0.3
                 --classifier ${OUTLOOK_CNN} --out ${CMAKE_CURRENT_BINARY_DIR}/gan_out)
# The same checks fail for an untrained generator (--epochs 0): each test passes only on its check's failure message
# (the FID one with the mean-image bar lifted, so only the FID can fail).
# (exit 1 and the FAIL line, through expect_fail.cmake)
add_test(NAME outlook_gan_untrained_fails
         COMMAND ${CMAKE_COMMAND}
                 "-DCOMMAND=$<TARGET_FILE:gan>|--limit|200|--epochs|0|--samples|300|--scale|1|--no-plot|--out|${CMAKE_CURRENT_BINARY_DIR}/gan_untrained_out"
                 "-DEXPECT=gan: FAIL: the samples' mean-image distance" -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_fail.cmake)
add_test(NAME outlook_gan_untrained_fid_fails
         COMMAND ${CMAKE_COMMAND}
                 "-DCOMMAND=$<TARGET_FILE:gan>|--limit|200|--epochs|0|--samples|300|--scale|1|--no-plot|--max-ratio|10|--max-fid-ratio|0.3|--classifier|${OUTLOOK_CNN}|--out|${CMAKE_CURRENT_BINARY_DIR}/gan_untrained_fid_out"
                 "-DEXPECT=gan: FAIL: the samples' FID" -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_fail.cmake)
set_tests_properties(outlook_gan outlook_gan_untrained_fid_fails PROPERTIES FIXTURES_REQUIRED cnn_checkpoint)
set_tests_properties(outlook_gan_untrained_fails outlook_gan_untrained_fid_fails PROPERTIES
                     SKIP_REGULAR_EXPRESSION "expect_fail: SKIPPED")
set_tests_properties(outlook_gan outlook_gan_untrained_fails outlook_gan_untrained_fid_fails
                     PROPERTIES LABELS "examples;outlook" SKIP_RETURN_CODE 77 ENVIRONMENT OPENBLAS_NUM_THREADS=1
                                TIMEOUT 120)
