# Program 5: style transfer with a random convolutional feature extractor on ImageMagick's built-in pictures.
adgraph_outlook_demo(style_transfer)
target_sources(style_transfer PRIVATE style_features.cpp style_images.cpp)
# Tiny: 48 px, 200 steps (about 2 s). Exit 77 (skip) without ImageMagick's convert, unless ADGRAPH_REQUIRE_IMAGEMAGICK=1.
add_test(NAME style_transfer_tiny
         COMMAND style_transfer --content wizard: --style plasma: --size 48 --steps 200 --report 50
                 --out ${CMAKE_CURRENT_BINARY_DIR}/style_transfer_run)
# The self-check can fail: without steps the result is the content picture, whose style is not the style's.
# (exit 1 and that check's FAIL line, through expect_fail.cmake: WILL_FAIL would pass any error).
add_test(NAME style_transfer_no_steps_fails
         COMMAND ${CMAKE_COMMAND}
                 "-DCOMMAND=$<TARGET_FILE:style_transfer>|--content|wizard:|--style|plasma:|--size|48|--steps|0|--out|${CMAKE_CURRENT_BINARY_DIR}/style_transfer_run0"
                 "-DEXPECT=FAIL: style loss: the content picture's / the result's"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_fail.cmake)
set_tests_properties(style_transfer_no_steps_fails PROPERTIES SKIP_REGULAR_EXPRESSION "expect_fail: SKIPPED")
set_tests_properties(style_transfer_tiny style_transfer_no_steps_fails
                     PROPERTIES LABELS "examples;outlook" SKIP_RETURN_CODE 77 TIMEOUT 120
                                ENVIRONMENT OPENBLAS_NUM_THREADS=1)
# A picture that is not there: exit 1 naming the file (read_png's message), with or without ImageMagick.
add_test(NAME style_transfer_missing_picture
         COMMAND ${CMAKE_COMMAND}
                 "-DCOMMAND=$<TARGET_FILE:style_transfer>|--content|${CMAKE_CURRENT_BINARY_DIR}/no-such.png|--style|${CMAKE_CURRENT_BINARY_DIR}/no-such.png|--out|${CMAKE_CURRENT_BINARY_DIR}/style_transfer_missing"
                 "-DEXPECT=style_transfer: read_png: '[^']*no-such.png': cannot open the file: No such file or directory"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_fail.cmake)
# A name ending in ':' that is not one of the accepted built-ins never reaches convert: a usage error (exit 2).
add_test(NAME style_transfer_refused_name
         COMMAND ${CMAKE_COMMAND}
                 "-DCOMMAND=$<TARGET_FILE:style_transfer>|--content|png:/etc/hostname|--style|wizard:|--steps|0|--out|${CMAKE_CURRENT_BINARY_DIR}/style_transfer_refused"
                 "-DEXPECT='png:/etc/hostname' is not one of the ImageMagick built-ins accepted" -DEXIT=2
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_fail.cmake)
# A PNG of another size goes to convert as png:<a copy>: a docs picture (another size) as the content, no steps, so
# exit 1 with the style check's FAIL line shows the picture was loaded.
add_test(NAME style_transfer_png_resized
         COMMAND ${CMAKE_COMMAND}
                 "-DCOMMAND=$<TARGET_FILE:style_transfer>|--content|${PROJECT_SOURCE_DIR}/docs/outlook/style_transfer.png|--style|plasma:fractal|--size|32|--steps|0|--out|${CMAKE_CURRENT_BINARY_DIR}/style_transfer_png"
                 "-DEXPECT=FAIL: style loss: the content picture's / the result's"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_fail.cmake)
set_tests_properties(style_transfer_png_resized PROPERTIES SKIP_REGULAR_EXPRESSION "expect_fail: SKIPPED")
set_tests_properties(style_transfer_missing_picture style_transfer_refused_name style_transfer_png_resized PROPERTIES
                     LABELS "examples;outlook" TIMEOUT 60 ENVIRONMENT OPENBLAS_NUM_THREADS=1)
